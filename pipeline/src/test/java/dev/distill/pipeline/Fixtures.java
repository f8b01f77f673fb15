package dev.distill.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine;

/**
 * The repository's committed fixtures (tiny models with transformers references, tiny tokenizer), and
 * `distill generate` run in-process.
 */
public final class Fixtures {
    private Fixtures() {}

    public static Path root() {
        String prop = System.getProperty("distill.repo.root");
        Path p = prop != null ? Path.of(prop) : Path.of("").toAbsolutePath();
        for (Path q = p.toAbsolutePath(); q != null; q = q.getParent()) {
            if (Files.isDirectory(q.resolve("fixtures")) && Files.exists(q.resolve("pom.xml"))) {
                return q;
            }
        }
        throw new IllegalStateException("cannot find the repository's fixtures/ from " + p);
    }

    public static Path model(String variant) {
        return root().resolve("fixtures/models").resolve(variant);
    }

    public static Path tinyTokenizer() {
        return root().resolve("fixtures/tokenizers/tiny");
    }

    /** A JSONL corpus of {@code lines} in {@code dir}, named by its line count. */
    public static Path corpus(Path dir, String... lines) throws IOException {
        Path p = dir.resolve("corpus-" + lines.length + ".jsonl");
        Files.write(p, List.of(lines));
        return p;
    }

    static JsonNode reference(String variant) {
        try {
            return new ObjectMapper().readTree(model(variant).resolve("reference.json").toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {exit code, stdout, stderr (picocli's error stream, then System.err, where the logs go)} of `distill generate`. */
    public static String[] generate(List<String> args) {
        StringWriter err = new StringWriter();
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        int rc;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(log, true, StandardCharsets.UTF_8));
            CommandLine cli = new CommandLine(new GenerateCommand());
            cli.setErr(new PrintWriter(err));
            cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
                cmd.getErr().println(e.getMessage());
                return 1;
            });
            rc = cli.execute(args.toArray(String[]::new));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        return new String[] {String.valueOf(rc), out.toString(StandardCharsets.UTF_8),
                err + log.toString(StandardCharsets.UTF_8)};
    }
}
