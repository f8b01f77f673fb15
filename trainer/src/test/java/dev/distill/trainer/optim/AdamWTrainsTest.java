package dev.distill.trainer.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.distill.model.Engines;
import dev.distill.trainer.loss.DistillLoss;
import dev.distill.trainer.loss.DistillObjective;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The whole step loop on a tiny problem (the logits are the parameter): the distillation loss falls
 * and no arrays pile up in the manager from step to step.
 */
class AdamWTrainsTest {
    private static final Engine ENGINE = Engines.pytorch();

    @Test
    void aFewStepsLowerTheLoss() {
        for (String loss : new String[] {"forward-kl", "reverse-kl", "jsd", "tvd"}) {
            try (NDManager m = ENGINE.newBaseManager(Device.cpu());
                    AdamW adam = new AdamW(m, AdamW.Config.withWeightDecay(0.01));
                    GradClip clip = new GradClip(m)) {
                m.getEngine().setRandomSeed(1);
                NDArray teacher = m.randomNormal(0f, 2f, new Shape(4, 16), DataType.FLOAT32)
                        .logSoftmax(1); // [N, V]
                NDArray ids = teacher.argSort(1, false).get(":, :6"); // [N, k] top 6
                NDArray logprobs = teacher.gather(ids, 1); // [N, k]
                NDArray weights = m.ones(new Shape(4)); // [N]
                LinkedHashMap<String, NDArray> params = new LinkedHashMap<>();
                params.put("logits", m.zeros(new Shape(4, 16))); // [N, V] the student
                params.get("logits").setRequiresGradient(true);
                DistillObjective objective = new DistillObjective(DistillLoss.of(loss, "bucket", 1, 0.5), 1, 0);
                LrSchedule schedule = new LrSchedule(LrSchedule.Kind.COSINE, 0.1, 3, 40, 0);

                float first = Float.NaN;
                float last = Float.NaN;
                int liveArraysAfterFirstStep = -1;
                for (long step = 0; step < 40; step++) {
                    try (NDScope scope = new NDScope()) {
                        scope.suppressNotUsedWarning(); // closes this block's temporaries
                        try (GradientCollector gc = ENGINE.newGradientCollector()) {
                            NDArray l = objective
                                    .compute(params.get("logits"), ids, logprobs, null, weights, 4)
                                    .total();
                            last = l.getFloat();
                            gc.backward(l);
                        }
                        Map<String, NDArray> grads = Gradients.of(params);
                        float norm = clip.globalNorm(List.copyOf(grads.values()), 1.0);
                        assertTrue(Float.isFinite(norm), loss + " gradient norm at step " + step);
                        adam.step(params, grads, schedule.lr(step));
                        Gradients.zero(params);
                    }
                    if (step == 0) {
                        first = last;
                        liveArraysAfterFirstStep = m.getManagedArrays().size();
                    }
                }
                assertTrue(last < 0.2f * first, loss + ": loss went from " + first + " to " + last);
                assertEquals(liveArraysAfterFirstStep, m.getManagedArrays().size(), "arrays leaked across steps");
            }
        }
    }
}
