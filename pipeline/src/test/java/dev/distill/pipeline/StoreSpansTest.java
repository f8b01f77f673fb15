package dev.distill.pipeline;

import static dev.distill.pipeline.GenerateCommandTest.manifest;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.data.RunDirectory;
import dev.distill.data.ShardReader;
import dev.distill.data.ShardSchema;
import dev.distill.data.SoftLabelRow;
import dev.distill.data.TeacherVocab;
import dev.distill.data.cli.ValidateCommand;
import dev.distill.tokenizer.HfTokenizer;
import dev.distill.tokenizer.TokenBytes;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** `distill generate --store-spans`: the text columns and teacher_vocab.json, and that the labels are unchanged. */
class StoreSpansTest {
    @TempDir
    Path tmp;

    private static List<SoftLabelRow> rows(Path run) throws Exception {
        List<String> columns = new ArrayList<>(ShardSchema.COLUMNS);
        columns.addAll(ShardSchema.TEXT_COLUMNS);
        List<SoftLabelRow> all = new ArrayList<>();
        try (Stream<Path> s = Files.list(run)) {
            for (Path p : s.filter(f -> f.getFileName().toString().startsWith("part-"))
                    .sorted()
                    .toList()) {
                boolean text;
                try (ShardReader r = ShardReader.open(new org.apache.hadoop.fs.Path(p.toUri()), ShardSchema.COLUMNS)) {
                    text = ShardSchema.hasText(r.fileSchema());
                }
                try (ShardReader r = ShardReader.open(
                        new org.apache.hadoop.fs.Path(p.toUri()), text ? columns : ShardSchema.COLUMNS)) {
                    r.forEach(all::add);
                }
            }
        }
        return all;
    }

    @Test
    void spansRebuildTheTextAndTheLabelsAreThoseOfARunWithoutThem() throws Exception {
        Path corpus = Fixtures.corpus(
                tmp,
                "{\"prompt\": \"What is a prime number?\"}",
                "{\"messages\": [{\"role\": \"user\", \"content\": \"Name a color, 色, 🎨.\"}]}",
                "{\"text\": \"Once upon a time\"}",
                "{\"prompt\": \"Write a haiku about rain.\"}");
        Path spans = tmp.resolve("spans");
        Path plain = tmp.resolve("plain");
        String[] r = Fixtures.generate(Fixtures.sampleRunArgs(corpus, spans, "--store-spans"));
        assertEquals("0", r[0], r[2]);
        assertEquals("0", Fixtures.generate(Fixtures.sampleRunArgs(corpus, plain))[0]);

        List<SoftLabelRow> withText = rows(spans);
        List<SoftLabelRow> without = rows(plain);
        assertEquals(without.size(), withText.size());
        try (HfTokenizer tok = HfTokenizer.load(Fixtures.tinyTokenizer())) {
            TokenBytes bytes = tok.tokenBytes();
            for (int i = 0; i < withText.size(); i++) {
                SoftLabelRow row = withText.get(i);
                assertNull(without.get(i).text());
                assertEquals(without.get(i), row.withText(null), "the same labels with or without spans");
                assertNull(row.text().coverageError(row.completionIds().length));
                boolean stop = row.finishReason().equals(SoftLabelRow.STOP);
                int n = row.completionIds().length;
                int[] text =
                        java.util.Arrays.copyOf(row.completionIds(), stop ? n - 1 : n); // the stop token is no text
                int[] ends = java.util.Arrays.copyOf(new int[text.length], n);
                int[] textEnds = new int[text.length];
                assertArrayEquals(
                        bytes.concat(text, false, textEnds), row.text().completionText());
                System.arraycopy(textEnds, 0, ends, 0, text.length);
                if (stop) {
                    ends[n - 1] = row.text().completionText().length;
                }
                assertArrayEquals(ends, row.text().byteEnds());
                assertEquals(
                        tok.decode(row.promptIds(), false),
                        row.text().promptText(),
                        "the rendered prompt, specials spelled");
            }
            TeacherVocab vocab = TeacherVocab.read(RunDirectory.existing(spans.toString()));
            assertEquals(tok.sha256(), vocab.tokenizerSha256());
            for (int id = 0; id < bytes.size(); id++) {
                assertArrayEquals(bytes.bytes(id), vocab.bytes(id));
                assertEquals(bytes.isSpecial(id), vocab.isSpecial(id));
            }
            assertTrue(vocab.stopIds().length > 0);
        }
        assertTrue(
                Fixtures.generate(Fixtures.sampleRunArgs(corpus, plain))[1].contains("this process: 0 prompts"),
                "resumes");
        assertFalse(
                Files.readString(plain.resolve("manifest.json")).contains("store_spans"),
                "runs without --store-spans keep their config (and hash)");
        assertTrue(manifest(spans).path("config").path("store_spans").asBoolean(), "recorded in the run configuration");

        java.io.StringWriter out = new java.io.StringWriter();
        int rc = new CommandLine(new ValidateCommand())
                .setOut(new java.io.PrintWriter(out, true))
                .execute(spans.toString());
        assertEquals(0, rc, out.toString());
        System.out.printf(
                "--store-spans: %d shard bytes vs %d without (%.1f%%), %s%n",
                shardBytes(spans),
                shardBytes(plain),
                100.0 * (shardBytes(spans) - shardBytes(plain)) / shardBytes(plain),
                new String(withText.get(1).text().completionText(), StandardCharsets.UTF_8).replace('\n', ' '));
    }

    private static long shardBytes(Path run) throws Exception {
        try (Stream<Path> s = Files.list(run)) {
            return s.filter(f -> f.getFileName().toString().startsWith("part-"))
                    .mapToLong(f -> f.toFile().length())
                    .sum();
        }
    }
}
