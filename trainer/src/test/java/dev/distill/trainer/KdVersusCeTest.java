package dev.distill.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill.testing.CliRun;
import dev.distill.trainer.metrics.MetricsLog;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Distilling the teacher's top-k distributions moves a student towards the teacher much faster than
 * cross-entropy on the tokens the teacher sampled (SeqKD), measured on held-out prompts.
 */
class KdVersusCeTest {
    @TempDir
    Path tmp;

    @Test
    void topKDistillationLowersHeldOutKlFarMoreThanCeOnSampledTokens() {
        Path student = TestModels.student(tmp.resolve("student"), 11);
        double[] kd = heldOutKl("kd", student, "--kd-weight", "1", "--ce-weight", "0");
        double[] ce = heldOutKl("ce", student, "--kd-weight", "0", "--ce-weight", "1");
        assertEquals(kd[0], ce[0], 1e-9, "both runs start from the same student");
        double kdDrop = kd[0] - kd[1];
        double ceDrop = ce[0] - ce[1];
        System.out.printf(
                "held-out KL: start %.4f; KD %.4f (-%.4f); CE %.4f (-%.4f); ratio %.2f%n",
                kd[0], kd[1], kdDrop, ce[1], ceDrop, kdDrop / ceDrop);
        assertTrue(
                kdDrop > 0 && kdDrop >= 1.5 * ceDrop,
                "KD lowered held-out KL by " + kdDrop + ", CE by " + ceDrop + " (want KD >= 1.5x CE)");
    }

    /** {start, end} held-out KL of a 30-step run. */
    private double[] heldOutKl(String name, Path student, String... weights) {
        Path out = tmp.resolve(name);
        String[] base = {
            "--student",
            student.toString(),
            "--data",
            SharedData.train().toString(),
            "--eval-data",
            SharedData.heldOut().toString(),
            "--out",
            out.toString(),
            "--steps",
            "30",
            "--batch-tokens",
            "512",
            "--lr",
            "1e-2",
            "--schedule",
            "constant",
            "--device",
            "cpu"
        };
        String[] args = new String[base.length + weights.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(weights, 0, args, base.length, weights.length);
        CliRun r = CliRun.of(new TrainCommand(), args);
        assertEquals(0, r.exitCode(), r.err());
        List<JsonNode> evals = MetricsLog.read(out.resolve(MetricsLog.FILE)).stream()
                .filter(l -> l.path("eval").asBoolean(false))
                .toList();
        assertEquals(0, evals.get(0).get("step").asLong());
        assertEquals(30, evals.get(evals.size() - 1).get("step").asLong());
        return new double[] {
            evals.get(0).get("kl").asDouble(),
            evals.get(evals.size() - 1).get("kl").asDouble()
        };
    }
}
