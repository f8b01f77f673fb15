package dev.distill.trainer.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.distill.model.Engines;
import dev.distill.trainer.optim.Gradients;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** Two micro-batches reduced by the step's token count accumulate exactly the one-batch gradient. */
class GradientAccumulationTest {
    private static final Engine ENGINE = Engines.pytorch();

    @Test
    void microBatchesWithTheStepNormaliserGiveTheFullBatchGradient() {
        DistillObjective objective = new DistillObjective(DistillLoss.of("jsd", "bucket", 2, 0.3), 1.0, 0.5);
        try (NDManager m = ENGINE.newBaseManager(Device.cpu())) {
            m.getEngine().setRandomSeed(5);
            NDArray x = m.randomNormal(new Shape(6, 4)); // [N, H] hidden states
            NDArray w = m.randomNormal(new Shape(4, 12)); // [H, V] the parameter
            w.setRequiresGradient(true);
            NDArray ids = m.randomInteger(0, 12, new Shape(6, 5), DataType.INT64); // [N, k]
            NDArray lp = m.randomUniform(-6f, -1f, new Shape(6, 5)); // [N, k]
            NDArray targets = m.randomInteger(0, 12, new Shape(6), DataType.INT64); // [N]
            NDArray weights = m.create(new float[] {1, 1, 0, 1, 1, 1}); // [N]
            double stepTokens = 5; // real positions in the whole step

            float[] full = gradient(
                    w,
                    () -> List.of(objective
                            .compute(x.matMul(w), ids, lp, targets, weights, stepTokens)
                            .total()));
            float[] accumulated = gradient(w, () -> {
                NDArray first = objective
                        .compute(
                                x.get("0:2").matMul(w),
                                ids.get("0:2"),
                                lp.get("0:2"),
                                targets.get("0:2"),
                                weights.get("0:2"),
                                stepTokens)
                        .total();
                NDArray second = objective
                        .compute(
                                x.get("2:").matMul(w),
                                ids.get("2:"),
                                lp.get("2:"),
                                targets.get("2:"),
                                weights.get("2:"),
                                stepTokens)
                        .total();
                return List.of(first, second);
            });
            // Averaging each micro-batch by its own token count (1 and 4) instead is a different gradient.
            float[] perBatchMean = gradient(
                    w,
                    () -> List.of(
                            objective
                                    .compute(
                                            x.get("0:2").matMul(w),
                                            ids.get("0:2"),
                                            lp.get("0:2"),
                                            targets.get("0:2"),
                                            weights.get("0:2"),
                                            1)
                                    .total(),
                            objective
                                    .compute(
                                            x.get("2:").matMul(w),
                                            ids.get("2:"),
                                            lp.get("2:"),
                                            targets.get("2:"),
                                            weights.get("2:"),
                                            4)
                                    .total()));
            double maxDiff = 0;
            double maxWrong = 0;
            for (int i = 0; i < full.length; i++) {
                maxDiff = Math.max(maxDiff, Math.abs(full[i] - accumulated[i]));
                maxWrong = Math.max(maxWrong, Math.abs(full[i] - perBatchMean[i]));
            }
            assertEquals(0, maxDiff, 1e-6, "accumulated vs full-batch gradient");
            assertTrue(maxWrong > 1e-2, "per-micro-batch means should differ, max diff " + maxWrong);
        }
    }

    /** Runs backward on each loss of one step (gradients accumulate) and returns, then zeroes, w's gradient. */
    private static float[] gradient(NDArray w, Supplier<List<NDArray>> losses) {
        try (GradientCollector gc = ENGINE.newGradientCollector()) {
            for (NDArray loss : losses.get()) {
                gc.backward(loss);
            }
        }
        float[] g = Gradients.of(w).toFloatArray();
        Gradients.zero(Map.of("w", w));
        return g;
    }
}
