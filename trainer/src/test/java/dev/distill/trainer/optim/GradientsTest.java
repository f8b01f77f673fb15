package dev.distill.trainer.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.distill.model.Engines;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Gradient views share the parameter's storage; zeroing clears inf and NaN. */
class GradientsTest {
    private static final Engine ENGINE = Engines.pytorch();

    @Test
    void viewsAccumulateAndZeroClearsNonFiniteValues() {
        try (NDManager m = ENGINE.newBaseManager(Device.cpu())) {
            NDArray w = m.create(new float[] {1f, 2f}); // [2]
            assertNull(Gradients.of(w), "no gradient is attached");
            w.setRequiresGradient(true);
            assertNull(Gradients.of(w), "no backward has reached it yet");
            for (int i = 0; i < 2; i++) {
                try (GradientCollector gc = ENGINE.newGradientCollector()) {
                    gc.backward(w.mul(3f).sum());
                }
            }
            assertArrayEquals(new float[] {6f, 6f}, Gradients.of(w).toFloatArray(), "two backward passes add up");
            Gradients.of(w).muli(Float.NaN); // an in-place op on the view reaches the parameter's gradient
            Gradients.zero(Map.of("w", w));
            assertArrayEquals(new float[] {0f, 0f}, Gradients.of(w).toFloatArray());
        }
    }
}
