package dev.distill.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill.data.SoftLabelRow;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `generate --mode score --responses-from RUN_DIR`: another run's completions scored row by row. */
class ResponsesFromTest {
    @TempDir
    Path tmp;

    static List<String> args(Path model, Path tokenizer, Path out, String... more) {
        List<String> a = new ArrayList<>(List.of(
                "--teacher",
                model.toString(),
                "--tokenizer",
                tokenizer.toString(),
                "--out",
                out.toString(),
                "--mode",
                "score",
                "--top-k",
                "6",
                "--device",
                "cpu"));
        a.addAll(List.of(more));
        return a;
    }

    @Test
    void scoringARunsResponsesEqualsScoringTheSameResponsesAsJsonl() throws Exception {
        Path corpus = Fixtures.corpus(
                tmp,
                "{\"prompt\": \"What is two plus two?\", \"response\": \"Four.\"}",
                "{\"messages\": [{\"role\": \"user\", \"content\": \"Say hi\"}, {\"role\": \"assistant\", \"content\": \"Hi there!\"}]}",
                "{\"text\": \"The sky is\", \"response\": \" blue today\"}",
                "{\"prompt\": \"Name a color.\", \"response\": \"Red, or maybe a deep blue.\"}",
                "{\"text\": \"Once upon a time\", \"response\": \" there was a tiny model\"}");
        Path tok = Fixtures.tinyTokenizer();
        // the "student" run: another model's pass over the responses
        Path student = tmp.resolve("student-run");
        String[] r = Fixtures.generate(
                args(Fixtures.model("qwen3"), tok, student, "--prompts", corpus.toString(), "--shard-size", "2"));
        assertEquals("0", r[0], r[2]);
        Path viaRun = tmp.resolve("teacher-on-run");
        r = Fixtures.generate(args(Fixtures.model("llama"), tok, viaRun, "--responses-from", student.toString()));
        assertEquals("0", r[0], r[2]);
        Path viaJsonl = tmp.resolve("teacher-on-jsonl");
        r = Fixtures.generate(
                args(Fixtures.model("llama"), tok, viaJsonl, "--prompts", corpus.toString(), "--shard-size", "2"));
        assertEquals("0", r[0], r[2]);

        List<SoftLabelRow> a = GenerateCommandTest.rows(viaRun);
        List<SoftLabelRow> b = GenerateCommandTest.rows(viaJsonl);
        List<SoftLabelRow> s = GenerateCommandTest.rows(student);
        assertEquals(5, a.size());
        assertEquals(b, a, "the same teacher numbers, ids and sample ids either way");
        for (int i = 0; i < a.size(); i++) {
            assertArrayEquals(s.get(i).promptIds(), a.get(i).promptIds());
            assertArrayEquals(s.get(i).completionIds(), a.get(i).completionIds());
            assertTrue(
                    !java.util.Arrays.equals(
                            s.get(i).completionLogprobs(), a.get(i).completionLogprobs()),
                    "the teacher's log-probs, not the scored run's");
        }
        JsonNode m = GenerateCommandTest.manifest(viaRun);
        assertEquals(
                GenerateCommandTest.manifest(student).get("config_hash").asText(),
                m.get("config").get("responses_config_hash").asText());
        assertEquals(2, m.get("config").get("shard_size").asInt(), "the scored run's shards");
        assertEquals(3, m.get("shards").size());
        // rerun: nothing to do; the same command resumes
        r = Fixtures.generate(args(Fixtures.model("llama"), tok, viaRun, "--responses-from", student.toString()));
        assertEquals("0", r[0], r[2]);
    }

    @Test
    void aRunMadeWithAnotherTokenizerIsRefused() throws Exception {
        Path corpus = Fixtures.corpus(tmp, "{\"text\": \"The sky is\", \"response\": \" blue today\"}");
        Path student = tmp.resolve("student-run");
        String[] r = Fixtures.generate(
                args(Fixtures.model("qwen3"), Fixtures.tinyTokenizer(), student, "--prompts", corpus.toString()));
        assertEquals("0", r[0], r[2]);
        Path variant = dev.distill.testing.RepoRoot.resolve("fixtures/tokenizers/tiny_variant");
        r = Fixtures.generate(
                args(Fixtures.model("llama"), variant, tmp.resolve("x"), "--responses-from", student.toString()));
        assertEquals("1", r[0]);
        assertTrue(r[2].contains("--responses-from " + student + " was made with tokenizer sha256"), r[2]);
        assertTrue(r[2].contains("score it with a teacher of the same tokenizer"), r[2]);
        assertTrue(!Files.exists(tmp.resolve("x/manifest.json")));
    }

    @Test
    void responsesFromNeedsScoreModeAndNoPrompts() throws Exception {
        Path corpus = Fixtures.corpus(tmp, "{\"text\": \"a\", \"response\": \" b\"}");
        String[] r = Fixtures.generate(List.of(
                "--teacher",
                Fixtures.model("llama").toString(),
                "--out",
                tmp.resolve("o").toString(),
                "--mode",
                "sample",
                "--responses-from",
                tmp.toString()));
        assertEquals("2", r[0], "a usage error");
        assertTrue(r[2].contains("--responses-from needs --mode score"), r[2]);
        r = Fixtures.generate(List.of(
                "--teacher",
                Fixtures.model("llama").toString(),
                "--out",
                tmp.resolve("o").toString(),
                "--mode",
                "score",
                "--responses-from",
                tmp.toString(),
                "--prompts",
                corpus.toString()));
        assertEquals("2", r[0], "a usage error");
        assertTrue(r[2].contains("--prompts and --responses-from exclude each other"), r[2]);
    }
}
