package dev.distill.trainer.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.distill.model.Engines;
import org.junit.jupiter.api.Test;

/** The on-policy estimator against a direct computation in doubles: its value and its gradient. */
class SampledReverseKlTest {
    static final float[][] LOGITS = {
        {1.0f, -0.5f, 2.0f, 0.3f, -1.2f},
        {0.1f, 0.2f, -0.3f, 1.5f, 0.0f},
        {-2.0f, 0.7f, 0.4f, 0.4f, 3.0f},
    };
    static final long[] SAMPLED = {2, 0, 4};
    static final float[] TEACHER = {-0.4f, -2.5f, -0.05f};
    static final float[] WEIGHTS = {1, 1, 0};

    static double[] logSoftmax(float[] z) {
        double[] x = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            x[i] = z[i];
        }
        double lse = DoubleReference.logSumExp(x);
        for (int i = 0; i < x.length; i++) {
            x[i] -= lse;
        }
        return x;
    }

    @Test
    void valueIsTheK1EstimateAndGradientIsDTimesGradLogQ() {
        double stepTokens = 4; // two real positions here, two more in another micro-batch
        double wantLoss = 0;
        double[][] wantGrad = new double[3][5];
        for (int n = 0; n < 3; n++) {
            double[] lq = logSoftmax(LOGITS[n]);
            double d = lq[(int) SAMPLED[n]] - TEACHER[n];
            wantLoss += WEIGHTS[n] * d / stepTokens;
            for (int v = 0; v < 5; v++) { // d log q(x) / dz_v = 1[v = x] - q_v
                wantGrad[n][v] = WEIGHTS[n] * d * ((v == SAMPLED[n] ? 1 : 0) - Math.exp(lq[v])) / stepTokens;
            }
        }
        try (NDManager m = Engines.pytorch().newBaseManager(Device.cpu())) {
            float[] flat = new float[15];
            for (int n = 0; n < 3; n++) {
                System.arraycopy(LOGITS[n], 0, flat, n * 5, 5);
            }
            NDArray z = m.create(flat, new Shape(3, 5));
            z.setRequiresGradient(true);
            DistillObjective objective = DistillObjective.sampled(new SampledReverseKl(), 1, 0);
            try (GradientCollector gc = Engines.pytorch().newGradientCollector()) {
                DistillObjective.Terms t = objective.compute(
                        z, null, null, m.create(SAMPLED), m.create(TEACHER), m.create(WEIGHTS), stepTokens);
                assertNull(t.ce());
                assertEquals(wantLoss, t.total().getFloat(), 1e-6);
                assertEquals(wantLoss, t.kd().getFloat(), 1e-6);
                gc.backward(t.total());
            }
            float[] g = z.getGradient().toFloatArray();
            for (int n = 0; n < 3; n++) {
                for (int v = 0; v < 5; v++) {
                    assertEquals(wantGrad[n][v], g[n * 5 + v], 1e-6, "d loss / d z[" + n + "," + v + "]");
                }
            }
        }
    }

    @Test
    void aStudentEqualToTheTeacherOnItsSampleHasZeroValueAndGradient() {
        try (NDManager m = Engines.pytorch().newBaseManager(Device.cpu())) {
            NDArray z = m.create(LOGITS[0]).reshape(1, 5);
            z.setRequiresGradient(true);
            float teacher = (float) logSoftmax(LOGITS[0])[2];
            try (GradientCollector gc = Engines.pytorch().newGradientCollector()) {
                NDArray loss = new SampledReverseKl()
                        .perPosition(
                                z, m.create(new long[] {2}), m.create(new float[] {teacher}), m.create(new float[] {1}))
                        .sum();
                assertEquals(0, loss.getFloat(), 1e-6);
                gc.backward(loss);
            }
            for (float g : z.getGradient().toFloatArray()) {
                assertEquals(0, g, 1e-6);
            }
        }
    }
}
