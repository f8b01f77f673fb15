package dev.distill.prompts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.distill.data.ShardMetadata;
import dev.distill.data.ShardWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Parquet corpora written by pyarrow as Hugging Face datasets exports (tools/scripts/make_prompt_fixtures.py). */
class ParquetCorpusTest {
    @TempDir
    Path tmp;

    private static Path fixture(String name) throws Exception {
        return Path.of(ParquetCorpusTest.class
                .getResource("/dev/distill/prompts/" + name)
                .toURI());
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
    void promptsChatsAndResponsesComeFromTheirColumns() throws Exception {
        List<PromptRecord> records = readAll(fixture("chat-export.parquet"), PromptSourceOptions.defaults());
        assertEquals(
                List.of(
                        "PROMPT",
                        "CHAT",
                        "CHAT",
                        "empty_prompt",
                        "missing_field",
                        "PROMPT",
                        "PROMPT",
                        "PROMPT",
                        "empty_prompt",
                        "PROMPT"),
                reasons(records));
        for (int i = 0; i < records.size(); i++) {
            assertEquals(i, records.get(i).index());
        }
        assertEquals("What is 2 + 2?", records.get(0).text());
        assertEquals("4", records.get(0).response());
        assertEquals(
                List.of(Map.of("role", "system", "content", "Be brief."), Map.of("role", "user", "content", "Hi!")),
                records.get(1).messages());
        assertEquals(
                "no \"prompt\", \"messages\" or \"text\" field (fields: response)",
                records.get(4).invalidDetail());
        assertEquals(10, Corpus.count(fixture("chat-export.parquet"), PromptSourceOptions.defaults()));
    }

    @Test
    void scoreModeUsesTheLastAssistantMessageOfAParquetChat() throws Exception {
        List<PromptRecord> records =
                readAll(fixture("chat-export.parquet"), new PromptSourceOptions(null, null, null, true));
        assertEquals("Blue.", records.get(2).response());
        assertEquals(
                List.of(Map.of("role", "user", "content", "Name a colour.")),
                records.get(2).messages());
        assertEquals(SkipReport.MISSING_RESPONSE, records.get(6).invalidReason());
    }

    @Test
    void skipToJumpsAcrossRowGroups() throws Exception {
        try (PromptSource s = PromptSource.open(fixture("chat-export.parquet"), PromptSourceOptions.defaults())) {
            assertEquals(7, s.skipTo(7));
            PromptRecord r = s.next();
            assertEquals(7, r.index());
            assertEquals("Largest planet?", r.text());
            assertEquals(fixture("chat-export.parquet") + ":8", s.location(7));
        }
    }

    @Test
    void aChosenPromptColumnAndTextColumnsWork() throws Exception {
        Path file = fixture("questions-export.parquet");
        List<PromptRecord> questions = readAll(file, new PromptSourceOptions(null, "question", null, false));
        assertEquals(7, questions.size());
        assertEquals(PromptKind.PROMPT, questions.get(6).kind());
        assertEquals("Question number 6?", questions.get(6).text());
        List<PromptRecord> texts = readAll(file, PromptSourceOptions.defaults());
        assertEquals(PromptKind.TEXT, texts.get(3).kind());
        assertEquals("Text 3 to continue", texts.get(3).text());
        List<PromptRecord> tags = readAll(file, new PromptSourceOptions(null, "tags", null, false));
        assertEquals(
                "\"tags\"[0] is not an object with string \"role\" and \"content\"",
                tags.get(0).invalidDetail());
    }

    @Test
    void standardColumnsAreTheFallbackAndAFileWithoutAnyIsRefusedNamingItsColumns() throws Exception {
        Path file = fixture("chat-export.parquet");
        // Without the chosen column, "messages" and "text" are the fallbacks ("prompt" is not: another field was
        // chosen).
        assertEquals(
                List.of("missing_field", "CHAT"),
                reasons(readAll(file, new PromptSourceOptions("parquet", "question", "answer", false)))
                        .subList(0, 2));
        // A soft-label shard is a Parquet file with none of the prompt columns.
        Path shard = tmp.resolve("shard.parquet");
        try (ShardWriter w = ShardWriter.create(
                shard.toString(), ShardMetadata.of(1, 10, "h", "t", "t", "k", "none", "c"), 1 << 20)) {
            w.commit();
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PromptSource.open(
                        shard, new PromptSourceOptions(null, "q", null, false))
                .close());
        assertEquals(
                shard
                        + " has no column \"q\", \"messages\" or \"text\" (columns: sample_id, prompt_index, sample_index, "
                        + "prompt_ids, completion_ids, completion_logprobs, topk_ids, topk_logprobs, finish_reason, label_sizes, label_counts); choose one with the prompt field option",
                e.getMessage());
    }
}
