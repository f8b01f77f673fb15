package dev.distill.prompts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PromptSourceTest {
    @TempDir
    Path tmp;

    static final String JSONL = String.join(
                    "\n",
                    "{\"prompt\": \"What is 2+2?\"}",
                    "{\"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"}, {\"role\": \"user\", \"content\": \"Hi\", \"name\": \"ann\"}]}",
                    "{\"text\": \"Once upon a time\"}",
                    "",
                    "{\"prompt\": \"unterminated",
                    "{\"question\": \"no prompt here\"}",
                    "{\"messages\": [{\"role\": \"user\"}]}",
                    "[1, 2, 3]",
                    "{\"prompt\": 42}",
                    "{\"prompt\": \"  \"}",
                    "{\"messages\": []}",
                    "{\"prompt\": \"Capital of France?\", \"response\": \"Paris.\"}")
            + "\n";

    private Path write(String name, byte[] bytes) throws Exception {
        Path file = tmp.resolve(name);
        Files.write(file, bytes);
        return file;
    }

    private static List<PromptRecord> readAll(Path file, PromptSourceOptions options) throws Exception {
        List<PromptRecord> out = new ArrayList<>();
        try (PromptSource source = PromptSource.open(file, options)) {
            source.forEachRemaining(out::add);
        }
        return out;
    }

    private static List<String> reasons(List<PromptRecord> records) {
        return records.stream()
                .map(r -> r.valid() ? r.kind().name() : r.invalidReason())
                .toList();
    }

    @Test
    void jsonlGivesEveryKindAndStableIndicesAcrossInvalidLines() throws Exception {
        List<PromptRecord> records =
                readAll(write("c.jsonl", JSONL.getBytes(StandardCharsets.UTF_8)), PromptSourceOptions.defaults());
        assertEquals(
                List.of(
                        "PROMPT",
                        "CHAT",
                        "TEXT",
                        "empty_prompt",
                        "malformed_json",
                        "missing_field",
                        "invalid_messages",
                        "malformed_json",
                        "invalid_field",
                        "empty_prompt",
                        "empty_prompt",
                        "PROMPT"),
                reasons(records));
        for (int i = 0; i < records.size(); i++) {
            assertEquals(i, records.get(i).index());
        }
        assertEquals("What is 2+2?", records.get(0).text());
        assertNull(records.get(0).response());
        assertEquals(
                List.of(
                        Map.of("role", "system", "content", "Be brief."),
                        Map.of("role", "user", "content", "Hi", "name", "ann")),
                records.get(1).messages());
        assertEquals("Once upon a time", records.get(2).text());
        assertEquals(
                "Paris.", records.get(11).response(), "a response beside the prompt is kept outside score mode too");
        assertEquals(
                "no \"prompt\", \"messages\" or \"text\" field (fields: question)",
                records.get(5).invalidDetail());
        assertEquals(
                "\"prompt\" is a number, expected a string or a list of messages",
                records.get(8).invalidDetail());
        assertEquals(
                "\"messages\"[0] is not an object with string \"role\" and \"content\"",
                records.get(6).invalidDetail());
    }

    @Test
    void aGzippedCorpusReadsTheSame() throws Exception {
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (OutputStream out = new GZIPOutputStream(gz)) {
            out.write(JSONL.getBytes(StandardCharsets.UTF_8));
        }
        Path plain = write("c.jsonl", JSONL.getBytes(StandardCharsets.UTF_8));
        Path zipped = write("c.jsonl.gz", gz.toByteArray());
        assertEquals(readAll(plain, PromptSourceOptions.defaults()), readAll(zipped, PromptSourceOptions.defaults()));
        assertEquals(12, Corpus.count(zipped, PromptSourceOptions.defaults()));
        try (PromptSource s = PromptSource.open(zipped, PromptSourceOptions.defaults())) {
            assertEquals(11, s.skipTo(11));
            assertEquals("Capital of France?", s.next().text());
        }
    }

    @Test
    void theExactErrorNamesFileLineReasonAndDetail() throws Exception {
        Path file = write("c.jsonl", JSONL.getBytes(StandardCharsets.UTF_8));
        try (PromptSource s = PromptSource.open(file, PromptSourceOptions.defaults())) {
            s.skipTo(4);
            PromptRecord bad = s.next();
            InvalidPromptException e = s.invalid(bad);
            assertEquals(
                    file
                            + ":5: malformed_json: Unexpected end-of-input: was expecting closing quote for a string value",
                    e.getMessage());
            assertEquals(SkipReport.MALFORMED_JSON, e.reason());
            assertEquals(
                    file + ":6: missing_field: no \"prompt\", \"messages\" or \"text\" field (fields: question)",
                    s.invalid(s.next()).getMessage());
        }
    }

    @Test
    void theGeneratorCanNameARecordTooLongForTheTeacher() {
        Path file = Path.of("corpus.jsonl");
        assertEquals(
                "corpus.jsonl:8: too_long: 5000 tokens, the teacher's context is 4096",
                new InvalidPromptException(file, 7, SkipReport.TOO_LONG, "5000 tokens, the teacher's context is 4096")
                        .getMessage());
        PromptRecord bad = PromptRecord.invalid(2, SkipReport.EMPTY_PROMPT, "blank line");
        assertEquals("corpus.jsonl:3: empty_prompt: blank line", new InvalidPromptException(file, bad).getMessage());
    }

    @Test
    void plainTextHasOnePromptPerLine() throws Exception {
        Path file = write(
                "c.txt",
                "first prompt\r\n\nthird, after a blank line\n  \nlast line without newline"
                        .getBytes(StandardCharsets.UTF_8));
        List<PromptRecord> records = readAll(file, PromptSourceOptions.defaults());
        assertEquals(List.of("PROMPT", "empty_prompt", "PROMPT", "empty_prompt", "PROMPT"), reasons(records));
        assertEquals("first prompt", records.get(0).text());
        assertEquals("last line without newline", records.get(4).text());
        assertEquals(5, Corpus.count(file, PromptSourceOptions.defaults()));
        assertEquals(0, Corpus.count(write("empty.txt", new byte[0]), PromptSourceOptions.defaults()));
        assertEquals(
                1,
                Corpus.count(write("one.txt", "x\n".getBytes(StandardCharsets.UTF_8)), PromptSourceOptions.defaults()));
    }

    @Test
    void invalidUtf8IsDetectedNotReplaced() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        bytes.write("{\"prompt\": \"ok\"}\n".getBytes(StandardCharsets.UTF_8));
        bytes.write("{\"prompt\": \"caf".getBytes(StandardCharsets.UTF_8));
        bytes.write(new byte[] {(byte) 0xC3, 0x28});
        bytes.write("\"}\n{\"prompt\": \"naïve café\"}\n".getBytes(StandardCharsets.UTF_8));
        Path file = write("c.jsonl", bytes.toByteArray());
        List<PromptRecord> records = readAll(file, PromptSourceOptions.defaults());
        assertEquals(List.of("PROMPT", "invalid_utf8", "PROMPT"), reasons(records));
        assertEquals("invalid UTF-8 at byte 15", records.get(1).invalidDetail());
        assertEquals("naïve café", records.get(2).text());
        try (PromptSource s = PromptSource.open(file, PromptSourceOptions.defaults())) {
            s.skipTo(1);
            assertEquals(
                    file + ":2: invalid_utf8: invalid UTF-8 at byte 15",
                    s.invalid(s.next()).getMessage());
        }
    }

    @Test
    void skipToFastForwardsWithoutParsingAndRefusesToGoBack() throws Exception {
        Path file = write("c.jsonl", JSONL.getBytes(StandardCharsets.UTF_8));
        try (PromptSource s = PromptSource.open(file, PromptSourceOptions.defaults())) {
            assertEquals(4, s.skipTo(4));
            assertEquals(4, s.next().index());
            assertTrue(s.hasNext());
            assertEquals(5, s.skipTo(5), "skipping to the buffered record keeps it");
            assertEquals(5, s.next().index());
            assertEquals(9, s.skipTo(9));
            assertEquals(9, s.next().index());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.skipTo(3));
            assertEquals("cannot skip back to record 3: the next record is 10", e.getMessage());
            assertEquals(12, s.skipTo(100));
            assertFalse(s.hasNext());
        }
    }

    @Test
    void scoreModeTakesTheResponseFieldOrTheLastAssistantMessage() throws Exception {
        String corpus = String.join(
                        "\n",
                        "{\"prompt\": \"Capital of France?\", \"response\": \"Paris.\"}",
                        "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}, {\"role\": \"assistant\", \"content\": \"Hello!\"}]}",
                        "{\"prompt\": \"No answer here\"}",
                        "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}]}",
                        "{\"messages\": [{\"role\": \"assistant\", \"content\": \"Only me\"}]}",
                        "{\"messages\": [{\"role\": \"user\", \"content\": \"Q\"}], \"answer\": \"A\"}")
                + "\n";
        Path file = write("s.jsonl", corpus.getBytes(StandardCharsets.UTF_8));
        List<PromptRecord> scored = readAll(file, new PromptSourceOptions(null, null, null, true));
        assertEquals(
                List.of("PROMPT", "CHAT", "missing_response", "missing_response", "empty_prompt", "missing_response"),
                reasons(scored));
        assertEquals("Paris.", scored.get(0).response());
        assertEquals("Hello!", scored.get(1).response());
        assertEquals(
                List.of(Map.of("role", "user", "content", "Hi")), scored.get(1).messages());
        assertEquals(
                "\"messages\" has no messages before the response",
                scored.get(4).invalidDetail());

        List<PromptRecord> custom = readAll(file, new PromptSourceOptions("jsonl", null, "answer", true));
        assertEquals("A", custom.get(5).response());
        assertEquals(
                List.of(Map.of("role", "user", "content", "Q")), custom.get(5).messages());

        List<PromptRecord> generate = readAll(file, PromptSourceOptions.defaults());
        assertEquals(2, generate.get(1).messages().size(), "outside score mode the conversation is kept whole");
        assertNull(generate.get(1).response());
    }

    @Test
    void unknownOrMissingFilesAreNamed() throws Exception {
        Path csv = write("c.csv", "a,b\n".getBytes(StandardCharsets.UTF_8));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> PromptSource.open(csv, PromptSourceOptions.defaults()));
        assertTrue(
                e.getMessage().startsWith("cannot tell the format of prompt corpus " + csv + " from its name"),
                e.getMessage());
        assertEquals(List.of("PROMPT"), reasons(readAll(csv, new PromptSourceOptions("txt", null, null, false))));
        Path missing = tmp.resolve("nope.jsonl");
        e = assertThrows(
                IllegalArgumentException.class, () -> PromptSource.open(missing, PromptSourceOptions.defaults()));
        assertEquals("prompt corpus " + missing + " does not exist", e.getMessage());
    }

    @Test
    void skipReportCountsAndFormats() {
        SkipReport a = new SkipReport();
        assertEquals("skipped 0 prompts", a.format());
        a.add(SkipReport.MALFORMED_JSON);
        a.add(SkipReport.TOO_LONG);
        SkipReport b = new SkipReport();
        b.add(SkipReport.MALFORMED_JSON);
        a.merge(b);
        assertEquals(3, a.total());
        assertEquals(2, a.count(SkipReport.MALFORMED_JSON));
        assertEquals("skipped 3 prompts: malformed_json 2, too_long 1", a.format());
    }
}
