package dev.distill.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.distill.model.CausalLM;
import dev.distill.model.Ops;
import dev.distill.trainer.loss.DistillLoss;
import dev.distill.trainer.loss.DistillObjective;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Top-k KD with --tail zero computes the LM head at the teacher's ids only (CausalLM.logitsAt,
 * DistillObjective.computeAtIds): the same loss and the same gradient on every parameter as the full [N, V]
 * logits gathered at the ids, for an untied and a tied head, with top-p padding slots.
 */
class LogitsAtIdsTest {
    private static final Engine ENGINE = Engine.getEngine("PyTorch");

    @Test
    void lossAndEveryGradientEqualTheFullLogitsPath() {
        for (boolean tied : new boolean[] {false, true}) {
            try (CausalLM lm = CausalLM.randomInit(
                            TestModels.studentConfig(TestModels.VOCAB, tied), 3, DataType.FLOAT32, Device.cpu());
                    NDManager m = lm.manager().newSubManager()) {
                lm.parameters().values().forEach(p -> p.setRequiresGradient(true));
                ENGINE.setRandomSeed(4);
                long b = 2;
                long t = 7;
                int k = 5;
                NDArray input = m.randomInteger(3, TestModels.VOCAB, new Shape(b, t), DataType.INT64);
                NDArray positions =
                        m.arange(0, (int) t, 1, DataType.INT64).expandDims(0).repeat(0, b);
                NDArray mask = m.ones(new Shape(b, t), DataType.INT64);
                long n = b * t;
                NDArray ids = m.randomInteger(0, TestModels.VOCAB, new Shape(n, k), DataType.INT32);
                NDArray logprobs =
                        m.randomUniform(-6f, -0.5f, new Shape(n, k)).sort(1).flip(1); // sorted, mass < 1
                NDArray padding = m.zeros(new Shape(n, k));
                padding.set(new NDIndex("0:3, 3:"), 1f); // top-p rows with 3 entries
                NDArray weights = m.ones(new Shape(n));
                weights.set(new NDIndex("-2:"), 0f); // padded positions
                DistillObjective objective =
                        new DistillObjective(DistillLoss.of("forward-kl", "zero", 2.0, 0.5), 1.0, 0.0);
                assertTrue(objective.readsOnlyLabelIds());

                Function<NDArray, NDArray> full = hidden -> objective
                        .compute(lm.logits(hidden), ids, logprobs, padding, null, null, null, weights, 10)
                        .total();
                Function<NDArray, NDArray> atIds = hidden -> objective
                        .computeAtIds(
                                lm.logitsAt(hidden, ids.toType(DataType.INT64, false)), logprobs, padding, weights, 10)
                        .total();
                Map<String, float[]> expected = lossAndGradients(lm, input, positions, mask, full);
                Map<String, float[]> actual = lossAndGradients(lm, input, positions, mask, atIds);
                assertEquals(expected.keySet(), actual.keySet());
                for (String name : expected.keySet()) {
                    float[] e = expected.get(name);
                    float[] a = actual.get(name);
                    float scale = 0;
                    float diff = 0;
                    for (int i = 0; i < e.length; i++) {
                        scale = Math.max(scale, Math.abs(e[i]));
                        diff = Math.max(diff, Math.abs(a[i] - e[i]));
                    }
                    assertTrue(scale > 0, "tied " + tied + ": " + name + " is all zero");
                    assertTrue(
                            diff <= 1e-5 * scale,
                            "tied " + tied + ": " + name + ": max difference " + diff + " of " + scale);
                }
            }
        }
    }

    @Test
    void objectivesThatReadTheVocabularyRefuse() {
        DistillObjective bucket = new DistillObjective(DistillLoss.of("forward-kl", "bucket", 1.0, 0.5), 1.0, 0.0);
        DistillObjective withCe = new DistillObjective(DistillLoss.of("forward-kl", "zero", 1.0, 0.5), 1.0, 0.5);
        assertFalse(bucket.readsOnlyLabelIds());
        assertFalse(withCe.readsOnlyLabelIds());
        IllegalStateException e =
                assertThrows(IllegalStateException.class, () -> bucket.computeAtIds(null, null, null, null, 1));
        assertTrue(e.getMessage().contains("whole vocabulary"), e.getMessage());
    }

    /** "loss" and every parameter's gradient of loss(final hidden states [B*T, H]), as float arrays */
    private static Map<String, float[]> lossAndGradients(
            CausalLM lm, NDArray input, NDArray positions, NDArray mask, Function<NDArray, NDArray> loss) {
        Map<String, float[]> out = new LinkedHashMap<>();
        try (GradientCollector gc = ENGINE.newGradientCollector()) {
            NDArray hidden = lm.hidden(input, positions, mask, null);
            NDArray total = loss.apply(hidden.reshape(-1, hidden.getShape().get(2)));
            gc.backward(total);
            out.put("loss", new float[] {total.getFloat()});
        }
        lm.parameters().forEach((name, p) -> {
            NDArray g = Ops.gradient(p);
            out.put(name, g.toFloatArray());
            Ops.zeroGradient(p);
        });
        return out;
    }
}
