package dev.distill.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.distill.testing.CliRun;
import dev.distill.testing.RepoRoot;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The repository's committed fixtures (tiny models with transformers references, tiny tokenizer), and
 * `distill generate` run in-process.
 */
public final class Fixtures {
    private Fixtures() {}

    public static Path model(String variant) {
        return RepoRoot.path().resolve("fixtures/models").resolve(variant);
    }

    public static Path tinyTokenizer() {
        return RepoRoot.path().resolve("fixtures/tokenizers/tiny");
    }

    /** A JSONL corpus of {@code lines} in {@code dir}, named by its line count. */
    public static Path corpus(Path dir, String... lines) throws IOException {
        Path p = dir.resolve("corpus-" + lines.length + ".jsonl");
        Files.write(p, List.of(lines));
        return p;
    }

    /**
     * `distill generate` arguments of a small sample-mode run of the tiny llama fixture (top-5, 12 new tokens, shards of
     * 3 prompts, seed 3) over {@code corpus} into {@code out}, then {@code more}.
     */
    public static List<String> sampleRunArgs(Path corpus, Path out, String... more) {
        List<String> a = new ArrayList<>(List.of(
                "--teacher",
                model("llama").toString(),
                "--tokenizer",
                tinyTokenizer().toString(),
                "--prompts",
                corpus.toString(),
                "--out",
                out.toString(),
                "--mode",
                "sample",
                "--top-k",
                "5",
                "--max-new-tokens",
                "12",
                "--shard-size",
                "3",
                "--seed",
                "3"));
        a.addAll(List.of(more));
        return a;
    }

    static JsonNode reference(String variant) {
        try {
            return new ObjectMapper()
                    .readTree(model(variant).resolve("reference.json").toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {exit code, stdout, stderr (picocli's messages and the logs)} of `distill generate` run in-process. */
    public static String[] generate(List<String> args) {
        CliRun r = CliRun.of(new GenerateCommand(), args);
        return new String[] {String.valueOf(r.exitCode()), r.out(), r.err() + r.log()};
    }
}
