package dev.distill.trainer.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.distill.model.Engines;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Positions with fewer entries than the batch's widest (top-p) are padded by repeating an id with no mass: the loss
 * and its gradient equal those of the unpadded position, for every divergence and tail mode.
 */
class VariableSupportTest {
    private static final Engine ENGINE = Engines.pytorch();
    private static final float[] Z = {0.3f, -1.2f, 0.8f, 0.1f, -0.4f, 1.1f};
    private static final long[] IDS = {2, 0};
    private static final float[] LP = {(float) Math.log(0.45), (float) Math.log(0.3)};

    private static float[] lossAndGradient(DistillLoss loss, long[] ids, float[] lp, float[] padding) {
        try (NDManager m = ENGINE.newBaseManager(Device.cpu())) {
            NDArray z = m.create(Z, new Shape(1, Z.length));
            z.setRequiresGradient(true);
            float value;
            try (GradientCollector gc = ENGINE.newGradientCollector()) {
                NDArray out = loss.perPosition(
                                z,
                                m.create(ids, new Shape(1, ids.length)),
                                m.create(lp, new Shape(1, lp.length)),
                                padding == null ? null : m.create(padding, new Shape(1, padding.length)),
                                m.ones(new Shape(1)))
                        .sum();
                value = out.getFloat();
                gc.backward(out);
            }
            float[] g = z.getGradient().toFloatArray();
            float[] r = new float[g.length + 1];
            r[0] = value;
            System.arraycopy(g, 0, r, 1, g.length);
            return r;
        }
    }

    @ParameterizedTest
    @CsvSource({
        "forward-kl,bucket,1",
        "forward-kl,zero,1",
        "reverse-kl,bucket,2",
        "reverse-kl,zero,1",
        "jsd,bucket,1",
        "jsd,zero,2",
        "tvd,bucket,1",
        "tvd,zero,1"
    })
    void paddingSlotsChangeNothing(String divergence, String tail, double t) {
        DistillLoss loss = DistillLoss.of(divergence, tail, t, 0.5);
        float[] plain = lossAndGradient(loss, IDS, LP, null);
        float[] padded = lossAndGradient(
                loss,
                new long[] {2, 0, 2, 2},
                new float[] {LP[0], LP[1], Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY},
                new float[] {0, 0, 1, 1});
        for (int i = 0; i < plain.length; i++) {
            assertEquals(
                    plain[i], padded[i], 1e-6, (i == 0 ? "loss" : "d/dz_" + (i - 1)) + " " + divergence + " " + tail);
        }
    }
}
