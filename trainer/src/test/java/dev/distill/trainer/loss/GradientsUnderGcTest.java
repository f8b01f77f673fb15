package dev.distill.trainer.loss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.distill.model.Engines;
import dev.distill.model.Ops;
import dev.distill.trainer.optim.Gradients;
import dev.distill.trainer.optim.LossScaler;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The loss gradients do not depend on when the JVM collects garbage. A scalar that autograd saves for
 * the backward pass must live in libtorch's memory (see {@link Ops#scalar}); a Java number operand
 * (x.mul(2f)) is a tensor over a Java buffer that DJL closes at once, so the collector may free it
 * before backward reads it: with a thread collecting all the time, such code gives different (often
 * non-finite) gradients within a few repeats.
 */
class GradientsUnderGcTest {
    private static final Engine ENGINE = Engines.pytorch();
    private static final int REPEATS = 15;

    @Test
    void gradientsAreTheSameWhileTheCollectorRuns() throws InterruptedException {
        for (String loss : new String[] {"forward-kl", "reverse-kl", "jsd", "tvd"}) {
            try (NDManager m = ENGINE.newBaseManager(Device.cpu())) {
                m.getEngine().setRandomSeed(7);
                NDArray teacher = m.randomNormal(0f, 2f, new Shape(6, 32), DataType.FLOAT32)
                        .logSoftmax(1); // [N, V]
                NDArray ids = teacher.argSort(1, false).get(":, :5"); // [N, k]
                NDArray logprobs = teacher.gather(ids, 1); // [N, k]
                NDArray weights = m.ones(new Shape(6)); // [N]
                NDArray logits = m.randomNormal(0f, 1f, new Shape(6, 32), DataType.FLOAT32); // [N, V]
                logits.setRequiresGradient(true);
                // temperature 2 and both terms weighted: every scalar the objective multiplies or divides by
                DistillObjective objective = new DistillObjective(DistillLoss.of(loss, "bucket", 2, 0.3), 0.7, 0);
                LossScaler scaler = new LossScaler();
                Runnable step = () -> {
                    try (NDScope scope = new NDScope()) {
                        scope.suppressNotUsedWarning(); // closes this block's temporaries
                        try (GradientCollector gc = ENGINE.newGradientCollector()) {
                            NDArray total = objective
                                    .compute(logits, ids, logprobs, null, weights, 6)
                                    .total();
                            gc.backward(scaler.scale(total));
                        }
                    }
                };
                step.run();
                float[] expected = Gradients.of(logits).toFloatArray();
                Gradients.zero(Map.of("logits", logits));

                Thread collector = new Thread(() -> {
                    while (!Thread.currentThread().isInterrupted()) {
                        System.gc();
                    }
                });
                collector.setDaemon(true);
                collector.start();
                try {
                    for (int r = 0; r < REPEATS; r++) {
                        step.run();
                        System.gc();
                        assertArrayEquals(
                                expected,
                                Gradients.of(logits).toFloatArray(),
                                loss + ": gradient differs at repeat " + r);
                        Gradients.zero(Map.of("logits", logits));
                    }
                } finally {
                    collector.interrupt();
                    collector.join();
                }
            }
        }
    }
}
