package dev.distill.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.distill.testing.CliRun;
import dev.distill.trainer.checkpoint.TrainerState;
import dev.distill.trainer.metrics.MetricsLog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `distill train` and `distill eval` with a student whose tokenizer differs from the data's: the tiny tokenizer's
 * soft labels (with --store-spans) and a student with the tiny_variant tokenizer (same vocabulary, adds a bos).
 */
class CrossTokenizerTrainTest {
    @TempDir
    Path tmp;

    private Path spansData(String name, int prompts, long seed) {
        return TeacherLabels.generate(
                SharedData.teacher(), tmp.resolve(name), TeacherLabels.varied(prompts, 8, seed), true);
    }

    @Test
    void aStudentWithAnotherTokenizerTrainsWithGoldByDefaultAndReportsCoverage() throws Exception {
        Path student = TestModels.variantStudent(tmp.resolve("student"));
        Path data = spansData("train", 64, 1);
        Path held = spansData("held", 16, 2);
        Path out = tmp.resolve("out");
        CliRun r = CliRun.of(
                new TrainCommand(),
                "--student",
                student.toString(),
                "--data",
                data.toString(),
                "--out",
                out.toString(),
                "--steps",
                "12",
                "--batch-tokens",
                "512",
                "--lr",
                "1e-2",
                "--ce-weight",
                "0.5",
                "--eval-data",
                held.toString(),
                "--device",
                "cpu");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("ce_per_byte") && r.out().contains("coverage"), r.out());
        List<JsonNode> lines = MetricsLog.read(out.resolve(MetricsLog.FILE));
        JsonNode first = lines.stream()
                .filter(l -> !l.path("eval").asBoolean())
                .findFirst()
                .orElseThrow();
        assertTrue(
                first.path("coverage").asDouble() > 0 && first.path("coverage").asDouble() <= 1, first.toString());
        assertTrue(first.path("kd").asDouble() > 0 && first.path("ce").asDouble() > 0, first.toString());
        List<JsonNode> evals =
                lines.stream().filter(l -> l.path("eval").asBoolean()).toList();
        assertEquals(2, evals.size());
        assertTrue(
                evals.get(1).path("ce_per_byte").asDouble()
                        < evals.get(0).path("ce_per_byte").asDouble(),
                "training lowers the held-out per-byte CE: " + evals);
        assertTrue(
                evals.get(1).path("aligned_kl").asDouble()
                        < evals.get(0).path("aligned_kl").asDouble(),
                evals.toString());
        JsonNode state = new ObjectMapper()
                .readTree(out.resolve("final").resolve(TrainerState.FILE).toFile());
        assertEquals("gold", state.path("options").path("loss").asText(), "gold is the default across tokenizers");

        CliRun e = CliRun.of(
                new EvalCommand(),
                "--model",
                out.resolve("final").toString(),
                "--data",
                held.toString(),
                "--json",
                "--device",
                "cpu");
        assertEquals(0, e.exitCode(), e.err());
        JsonNode m = new ObjectMapper().readTree(e.out());
        // eval runs oneDNN's packed linear layers, the trainer's last eval the matmul: equal within float rounding
        assertEquals(
                evals.get(1).path("ce_per_byte").asDouble(),
                m.path("ce_per_byte").asDouble(),
                1e-6);
        assertTrue(m.path("teacher_ce_per_byte").asDouble() > 0);
    }

    @Test
    void uldTrainsAndALossForOneVocabularyIsRefusedAcrossTokenizers() {
        Path student = TestModels.variantStudent(tmp.resolve("student"));
        Path data = spansData("train", 32, 3);
        CliRun r = CliRun.of(
                new TrainCommand(),
                "--student",
                student.toString(),
                "--data",
                data.toString(),
                "--out",
                tmp.resolve("uld").toString(),
                "--steps",
                "2",
                "--batch-tokens",
                "512",
                "--loss",
                "uld",
                "--device",
                "cpu");
        assertEquals(0, r.exitCode(), r.err());
        CliRun kl = CliRun.of(
                new TrainCommand(),
                "--student",
                student.toString(),
                "--data",
                data.toString(),
                "--out",
                tmp.resolve("kl").toString(),
                "--steps",
                "2",
                "--loss",
                "reverse-kl",
                "--device",
                "cpu");
        assertEquals(2, kl.exitCode(), "a usage error");
        assertTrue(
                kl.err()
                        .startsWith(
                                "--loss reverse-kl compares distributions over the same token ids, but the student's"
                                        + " tokenizer differs from the data's; use --loss gold (the default then) or --loss uld"),
                kl.err());
    }

    @Test
    void shardsWithoutSpansAreRefusedNamingStoreSpans() {
        Path student = TestModels.variantStudent(tmp.resolve("student"));
        CliRun r = CliRun.of(
                new TrainCommand(),
                "--student",
                student.toString(),
                "--data",
                SharedData.train().toString(),
                "--out",
                tmp.resolve("out").toString(),
                "--steps",
                "1",
                "--device",
                "cpu");
        assertEquals(1, r.exitCode());
        assertEquals(
                "distill train: --data " + SharedData.train() + " has no text spans, and the student " + student
                        + " has another tokenizer than the data's: a cross-tokenizer student needs soft labels generated with"
                        + " 'distill generate --store-spans'\n",
                r.err());
        CliRun e = CliRun.of(
                new EvalCommand(),
                "--model",
                student.toString(),
                "--data",
                SharedData.train().toString(),
                "--device",
                "cpu");
        assertEquals(1, e.exitCode());
        assertTrue(e.err().contains("'distill generate --store-spans'"), e.err());
    }

    @Test
    void aSameTokenizerRunGivenCrossTokenizerOptionsTrainsAsBefore() throws Exception {
        Path student = TestModels.student(tmp.resolve("student"), 1);
        Path data = spansData("train", 32, 4);
        String[] common = {
            "--student",
            student.toString(),
            "--data",
            data.toString(),
            "--steps",
            "3",
            "--batch-tokens",
            "256",
            "--device",
            "cpu"
        };
        CliRun gold = CliRun.of(
                new TrainCommand(), concat(common, "--out", tmp.resolve("gold").toString(), "--loss", "gold"));
        CliRun plain = CliRun.of(
                new TrainCommand(), concat(common, "--out", tmp.resolve("plain").toString()));
        assertEquals(0, gold.exitCode(), gold.err());
        assertEquals(0, plain.exitCode(), plain.err());
        List<JsonNode> a = MetricsLog.read(tmp.resolve("gold").resolve(MetricsLog.FILE));
        List<JsonNode> b = MetricsLog.read(tmp.resolve("plain").resolve(MetricsLog.FILE));
        for (int i = 0; i < a.size(); i++) {
            assertEquals(b.get(i).path("loss").asDouble(), a.get(i).path("loss").asDouble(), 0.0, "step " + i);
            assertTrue(a.get(i).path("coverage").isMissingNode());
        }
        JsonNode state = new ObjectMapper()
                .readTree(tmp.resolve("gold/final").resolve(TrainerState.FILE).toFile());
        assertEquals("forward-kl", state.path("options").path("loss").asText());
        assertTrue(Files.exists(tmp.resolve("gold/final/model.safetensors")));
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
