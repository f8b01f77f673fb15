package dev.distill.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill.testing.CliRun;
import dev.distill.trainer.metrics.MetricsLog;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rows of 16 tokens (6 prompt + 10 completion): a 128-token batch holds 8 rows, a 64-token batch 4, so
 * grad-accum 2 at half the batch tokens sees exactly the rows of grad-accum 1 in each step.
 */
class GradAccumulationTest {
    @TempDir
    Path tmp;

    @Test
    void halfTheBatchTokensWithTwoMicroBatchesGivesTheSameLossCurve() {
        Path student = TestModels.student(tmp.resolve("student"), 3);
        List<JsonNode> whole = run(student, "whole", "--batch-tokens", "128", "--grad-accum", "1", "--steps", "6");
        List<JsonNode> split = run(student, "split", "--batch-tokens", "64", "--grad-accum", "2", "--steps", "6");
        assertEquals(6, whole.size());
        assertEquals(6, split.size());
        double worst = 0;
        for (int i = 0; i < 6; i++) {
            assertEquals(80, whole.get(i).get("tokens").asLong(), "8 rows x 10 completion tokens");
            assertEquals(
                    whole.get(i).get("tokens").asLong(),
                    split.get(i).get("tokens").asLong());
            assertEquals(2, split.get(i).get("micro_batches").asInt());
            for (String key : List.of("loss", "kd", "ce", "grad_norm")) {
                double a = whole.get(i).get(key).asDouble();
                double b = split.get(i).get(key).asDouble();
                worst = Math.max(worst, Math.abs(a - b));
                assertEquals(a, b, 2e-5 * Math.max(1, Math.abs(a)), "step " + (i + 1) + " " + key);
            }
        }
        System.out.printf("grad-accum 2 vs 1: max |difference| over 6 steps of loss/kd/ce/grad_norm = %.3g%n", worst);
    }

    @Test
    void epochsCountTheStepsOfEveryPass() {
        Path student = TestModels.student(tmp.resolve("student"), 3);
        // 48 rows x 2 epochs = 96 rows = 12 micro-batches of 8 rows = 6 steps of 2 micro-batches.
        List<JsonNode> lines = run(student, "epochs", "--batch-tokens", "128", "--grad-accum", "2", "--epochs", "2");
        assertEquals(6, lines.size());
        assertEquals(
                96 * 10, lines.stream().mapToLong(l -> l.get("tokens").asLong()).sum(), "every row of both epochs");
        assertEquals(0, lines.get(2).get("epoch").asLong());
        assertEquals(1, lines.get(5).get("epoch").asLong());
    }

    private List<JsonNode> run(Path student, String name, String... extra) {
        Path out = tmp.resolve(name);
        String[] base = {
            "--student",
            student.toString(),
            "--data",
            SharedData.fixedLengths().toString(),
            "--out",
            out.toString(),
            "--lr",
            "1e-2",
            "--ce-weight",
            "0.3",
            "--shuffle-buffer",
            "16",
            "--device",
            "cpu"
        };
        String[] args = new String[base.length + extra.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        CliRun r = CliRun.of(new TrainCommand(), args);
        assertEquals(0, r.exitCode(), r.err());
        return MetricsLog.read(out.resolve(MetricsLog.FILE));
    }
}
