package dev.distill.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.distill.testing.CliRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * --precision fp16 runs the student's forward and backward on a half-precision copy of fp32 master
 * weights with dynamic loss scaling: it trains every parameter and follows the fp32 loss curve
 * closely.
 */
class HalfPrecisionTest {
    @TempDir
    Path tmp;

    /** The metrics lines of the training steps. */
    static List<JsonNode> steps(Path out) throws Exception {
        List<JsonNode> steps = new ArrayList<>();
        for (String line : Files.readAllLines(out.resolve("metrics.jsonl"))) {
            JsonNode j = new ObjectMapper().readTree(line);
            if (!j.path("eval").asBoolean(false)) {
                steps.add(j);
            }
        }
        return steps;
    }

    Path train(String precision) {
        Path student = TestModels.student(tmp.resolve("student-" + precision), 13);
        Path out = tmp.resolve("out-" + precision);
        CliRun r = CliRun.of(
                new TrainCommand(),
                "--student",
                student.toString(),
                "--data",
                SharedData.train().toString(),
                "--out",
                out.toString(),
                "--steps",
                "8",
                "--batch-tokens",
                "256",
                "--lr",
                "3e-3",
                "--precision",
                precision,
                "--device",
                "cpu");
        assertEquals(0, r.exitCode(), r.err());
        return out;
    }

    @Test
    void halfPrecisionTrainingFollowsTheFp32LossCurve() throws Exception {
        List<JsonNode> half = steps(train("fp16"));
        List<JsonNode> full = steps(train("fp32"));
        assertEquals(8, half.size());
        for (int i = 0; i < half.size(); i++) {
            double h = half.get(i).get("loss").asDouble();
            double f = full.get(i).get("loss").asDouble();
            assertTrue(
                    Math.abs(h - f) < 0.02 * Math.abs(f) + 1e-3, "step " + (i + 1) + ": fp16 " + h + " vs fp32 " + f);
            assertTrue(half.get(i).has("loss_scale"), "fp16 steps report the loss scale");
            assertEquals(false, half.get(i).get("skipped").asBoolean(), "step " + (i + 1) + " skipped");
        }
        assertTrue(half.get(7).get("loss").asDouble() < half.get(0).get("loss").asDouble(), "fp16 loss must fall");
    }
}
