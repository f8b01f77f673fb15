package dev.distill.trainer.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.distill.data.LogitsSpec;
import dev.distill.data.SampledTargets;
import dev.distill.model.Engines;
import org.junit.jupiter.api.Test;

/**
 * The sampled-labels estimator ({@link SampledKl}): its expected gradient over every possible outcome of the N draws
 * equals the full-distribution forward-KL gradient, and a loss it cannot support is refused.
 */
class SampledKlTest {
    private static final Engine ENGINE = Engines.pytorch();
    private static final double[] P = {0.5, 0.3, 0.15, 0.05}; // the teacher
    private static final float[] Z = {0.3f, -1.2f, 0.8f, 0.1f}; // the student's logits
    private static final int V = P.length;

    /** Gradient of the sampled loss w.r.t. the student logits, for draws with the given counts (ids with count > 0). */
    private static float[] sampledGradient(int[] counts, LogitsSpec spec) {
        int size = 0;
        for (int c : counts) {
            size += c > 0 ? 1 : 0;
        }
        long[] ids = new long[size];
        float[] lp = new float[size];
        int[] cs = new int[size];
        int j = 0;
        for (int v = 0; v < V; v++) {
            if (counts[v] > 0) {
                ids[j] = v;
                lp[j] = (float) Math.log(P[v]);
                cs[j++] = counts[v];
            }
        }
        double[] w = SampledTargets.weights(spec, lp, cs, 0, size);
        float[] wf = new float[size];
        for (int i = 0; i < size; i++) {
            wf[i] = (float) w[i];
        }
        try (NDManager m = ENGINE.newBaseManager(Device.cpu())) {
            NDArray z = m.create(Z, new Shape(1, V));
            z.setRequiresGradient(true);
            try (GradientCollector gc = ENGINE.newGradientCollector()) {
                NDArray loss = SampledKl.perPosition(
                                z,
                                m.create(ids, new Shape(1, size)),
                                m.create(lp, new Shape(1, size)),
                                m.create(wf, new Shape(1, size)),
                                m.ones(new Shape(1)))
                        .sum();
                gc.backward(loss);
            }
            return z.getGradient().toFloatArray();
        }
    }

    /** The full forward-KL gradient, from the top-k loss with k = V (tested against torch elsewhere). */
    private static float[] fullGradient() {
        try (NDManager m = ENGINE.newBaseManager(Device.cpu())) {
            NDArray z = m.create(Z, new Shape(1, V));
            z.setRequiresGradient(true);
            float[] lp = new float[V];
            for (int v = 0; v < V; v++) {
                lp[v] = (float) Math.log(P[v]);
            }
            try (GradientCollector gc = ENGINE.newGradientCollector()) {
                NDArray loss = DistillLoss.of("forward-kl", "zero", 1.0, 0.5)
                        .perPosition(
                                z,
                                m.create(new long[] {0, 1, 2, 3}, new Shape(1, V)),
                                m.create(lp, new Shape(1, V)),
                                m.ones(new Shape(1)))
                        .sum();
                gc.backward(loss);
            }
            return z.getGradient().toFloatArray();
        }
    }

    @Test
    void theExpectedGradientOverAllDrawOutcomesIsTheFullKlGradient() {
        int n = 3;
        LogitsSpec spec = LogitsSpec.sample(n, 1.0);
        double[] expected = new double[V];
        double total = 0;
        // every outcome of 3 draws with replacement over 4 ids, with its multinomial probability
        for (int a = 0; a < V; a++) {
            for (int b = 0; b < V; b++) {
                for (int c = 0; c < V; c++) {
                    double prob = P[a] * P[b] * P[c];
                    int[] counts = new int[V];
                    counts[a]++;
                    counts[b]++;
                    counts[c]++;
                    float[] g = sampledGradient(counts, spec);
                    for (int v = 0; v < V; v++) {
                        expected[v] += prob * g[v];
                    }
                    total += prob;
                }
            }
        }
        assertEquals(1.0, total, 1e-12);
        float[] full = fullGradient();
        for (int v = 0; v < V; v++) {
            assertEquals(full[v], expected[v], 1e-6, "d/dz_" + v);
        }
        // a single outcome is not the full gradient: the estimator is unbiased, not exact
        float[] one = sampledGradient(new int[] {3, 0, 0, 0}, spec);
        assertTrue(Math.abs(one[0] - full[0]) > 0.1);
    }

    @Test
    void theLossValueIsAnUnbiasedEstimateOfTheFullKl() {
        int n = 2;
        LogitsSpec spec = LogitsSpec.sample(n, 1.0);
        double lse = Math.log(java.util.stream.IntStream.range(0, V)
                .mapToDouble(v -> Math.exp(Z[v]))
                .sum());
        double kl = 0;
        for (int v = 0; v < V; v++) {
            kl += P[v] * (Math.log(P[v]) - (Z[v] - lse));
        }
        double expected = 0;
        try (NDManager m = ENGINE.newBaseManager(Device.cpu())) {
            for (int a = 0; a < V; a++) {
                for (int b = 0; b < V; b++) {
                    long[] ids = a == b ? new long[] {a} : new long[] {Math.min(a, b), Math.max(a, b)};
                    float[] lp = new float[ids.length];
                    int[] counts = new int[ids.length];
                    for (int i = 0; i < ids.length; i++) {
                        lp[i] = (float) Math.log(P[(int) ids[i]]);
                        counts[i] = a == b ? 2 : 1;
                    }
                    double[] w = SampledTargets.weights(spec, lp, counts, 0, ids.length);
                    float[] wf = new float[w.length];
                    for (int i = 0; i < w.length; i++) {
                        wf[i] = (float) w[i];
                    }
                    float value = SampledKl.perPosition(
                                    m.create(Z, new Shape(1, V)),
                                    m.create(ids, new Shape(1, ids.length)),
                                    m.create(lp, new Shape(1, ids.length)),
                                    m.create(wf, new Shape(1, ids.length)),
                                    m.ones(new Shape(1)))
                            .getFloat(0);
                    expected += P[a] * P[b] * value;
                }
            }
        }
        assertEquals(kl, expected, 1e-5);
    }

    @Test
    void lossesTheSampledLabelsCannotSupportAreRefusedNamingBoth() {
        LogitsSpec sample = LogitsSpec.sample(64, 1.0);
        for (String loss : new String[] {"reverse-kl", "jsd", "tvd"}) {
            DistillObjective o = new DistillObjective(DistillLoss.of(loss, "bucket", 1.0, 0.5), 1, 0);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> o.requireSupports(sample));
            assertTrue(
                    e.getMessage().contains("--loss " + loss) && e.getMessage().contains("sample:64:1"),
                    e.getMessage());
        }
        DistillObjective hot = new DistillObjective(DistillLoss.of("forward-kl", "bucket", 2.0, 0.5), 1, 0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> hot.requireSupports(sample));
        assertTrue(
                e.getMessage().contains("--kd-temperature 2.0")
                        && e.getMessage().contains("sample:64:1"),
                e.getMessage());
        new DistillObjective(DistillLoss.of("forward-kl", "bucket", 1.0, 0.5), 1, 0).requireSupports(sample);
        new DistillObjective(DistillLoss.of("tvd", "bucket", 2.0, 0.5), 1, 0).requireSupports(LogitsSpec.topP(0.9, 64));
        new DistillObjective(null, 0, 1).requireSupports(sample); // plain SFT needs no soft labels
        DistillObjective.sampled(new SampledReverseKl(), 1, 0).requireSupports(sample); // reads completion log-probs
    }
}
