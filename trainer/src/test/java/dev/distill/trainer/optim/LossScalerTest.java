package dev.distill.trainer.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.distill.model.Engines;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Dynamic loss scaling: skip + halve on inf/NaN, double after N clean steps, exact unscaling. */
class LossScalerTest {
    private static final Engine ENGINE = Engines.pytorch();

    @Test
    void scaledBackwardUnscalesToTheTrueGradient() {
        try (NDManager m = ENGINE.newBaseManager(Device.cpu());
                LossScaler scaler = new LossScaler()) {
            assertEquals(65536.0, scaler.scale());
            NDArray w = m.create(new float[] {0.5f, -2f, 3f}); // [3]
            w.setRequiresGradient(true);
            try (GradientCollector gc = ENGINE.newGradientCollector()) {
                gc.backward(scaler.scale(w.square().sum())); // d/dw = 2w, times the scale
            }
            Map<String, NDArray> params = Map.of("w", w);
            List<NDArray> grads = new java.util.ArrayList<>(Gradients.of(params).values());
            assertArrayEquals(
                    new float[] {65536f, -262144f, 393216f}, grads.get(0).toFloatArray());
            assertTrue(scaler.unscale(grads));
            assertArrayEquals(new float[] {1f, -4f, 6f}, Gradients.of(w).toFloatArray());
            assertTrue(scaler.update(true));
            assertEquals(1, scaler.cleanSteps());
        }
    }

    @Test
    void injectedInfOrNanSkipsTheStepAndHalvesTheScale() {
        try (NDManager m = ENGINE.newBaseManager(Device.cpu());
                LossScaler scaler = new LossScaler(1024, 3)) {
            NDArray good = m.create(new float[] {1024f, 2048f});
            NDArray inf = m.create(new float[] {1f, Float.POSITIVE_INFINITY});
            assertFalse(scaler.unscale(List.of(good, inf)));
            assertArrayEquals(new float[] {1f, 2f}, good.toFloatArray()); // still unscaled in place
            assertFalse(scaler.update(false));
            assertEquals(512, scaler.scale());

            assertTrue(scaler.update(true));
            assertTrue(scaler.update(true));
            NDArray nan = m.create(new float[] {Float.NaN});
            assertFalse(scaler.unscale(List.of(nan)));
            assertFalse(scaler.update(false));
            assertEquals(256, scaler.scale());
            assertEquals(0, scaler.cleanSteps(), "an overflow restarts the clean-step count");
        }
    }

    @Test
    void scaleDoublesAfterGrowthIntervalCleanSteps() {
        LossScaler scaler = new LossScaler(8, 3);
        scaler.update(true);
        scaler.update(true);
        assertEquals(8, scaler.scale());
        scaler.update(true);
        assertEquals(16, scaler.scale());
        assertEquals(0, scaler.cleanSteps());
        for (int i = 0; i < 3; i++) {
            scaler.update(true);
        }
        assertEquals(32, scaler.scale());
        scaler.load(4096, 2);
        scaler.update(true);
        assertEquals(8192, scaler.scale());
    }
}
