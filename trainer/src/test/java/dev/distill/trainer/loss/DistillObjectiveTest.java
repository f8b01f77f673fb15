package dev.distill.trainer.loss;

import static dev.distill.trainer.loss.TorchReference.flat;
import static dev.distill.trainer.loss.TorchReference.floats;
import static dev.distill.trainer.loss.TorchReference.longs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import dev.distill.model.Engines;
import org.junit.jupiter.api.Test;

/** kd_weight * KD + ce_weight * CE, per-token reduced, against the torch reference numbers. */
class DistillObjectiveTest {
    private static final JsonNode REF = TorchReference.load("losses.json");

    private static double sum(JsonNode values) {
        double s = 0;
        for (double v : flat(values)) {
            s += v;
        }
        return s;
    }

    private static JsonNode torchCase(String loss, String tail, double t) {
        for (JsonNode c : REF.get("cases")) {
            if (c.get("loss").asText().equals(loss)
                    && c.get("tail").asText().equals(tail)
                    && c.get("temperature").asDouble() == t) {
                return c;
            }
        }
        throw new AssertionError("no reference case " + loss + " " + tail + " " + t);
    }

    @Test
    void weightedSumOfPerTokenTerms() {
        double stepTokens = 7; // e.g. this micro-batch's 5 real positions plus 2 in another one
        double kdWant = sum(torchCase("forward-kl", "bucket", 2.0).get("per_position")) / stepTokens;
        double ceWant = sum(REF.get("cross_entropy").get("per_position")) / stepTokens;
        try (NDManager m = Engines.pytorch().newBaseManager(Device.cpu())) {
            NDArray z = floats(m, REF.get("student_logits"));
            NDArray ids = longs(m, REF.get("topk_ids"));
            NDArray lp = floats(m, REF.get("topk_logprobs"));
            NDArray labels = longs(m, REF.get("labels"));
            NDArray weights = floats(m, REF.get("weights"));

            DistillObjective mixed = new DistillObjective(DistillLoss.of("forward-kl", "bucket", 2, 0), 0.7, 0.3);
            DistillObjective.Terms t = mixed.compute(z, ids, lp, labels, weights, stepTokens);
            assertEquals(kdWant, t.kd().getFloat(), 1e-5);
            assertEquals(ceWant, t.ce().getFloat(), 1e-5);
            assertEquals(0.7 * kdWant + 0.3 * ceWant, t.total().getFloat(), 1e-5);

            // SeqKD: CE only, no soft labels needed at all.
            DistillObjective seqKd = new DistillObjective(null, 0, 1);
            DistillObjective.Terms s = seqKd.compute(z, null, null, labels, weights, 5);
            assertNull(s.kd());
            assertEquals(
                    sum(REF.get("cross_entropy").get("per_position")) / 5,
                    s.total().getFloat(),
                    1e-5);

            // KD only.
            DistillObjective kdOnly = new DistillObjective(DistillLoss.of("forward-kl", "bucket", 2, 0), 1, 0);
            DistillObjective.Terms k = kdOnly.compute(z, ids, lp, null, weights, stepTokens);
            assertNull(k.ce());
            assertEquals(kdWant, k.total().getFloat(), 1e-5);
        }
    }
}
