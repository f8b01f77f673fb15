package dev.distill.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.distill.data.LogitsSpec;
import dev.distill.data.SampledTargets;
import dev.distill.model.CategoricalDraws;
import dev.distill.model.Engines;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The selection of stored entries: sampled frequencies (drawn as generate draws them), their convergence, top-p
 * minimality, fidelity. */
class LabelSelectionTest {
    /** A fixed small distribution with a zero-probability id. */
    private static final float[] P = {0.4f, 0.25f, 0.15f, 0f, 0.1f, 0.07f, 0.03f};

    /**
     * The draws of {@code positions} positions of row seed {@code seed} from the distribution {@code p}, as generate
     * makes them: the host's seeded uniforms, the ids drawn by {@link CategoricalDraws} (on the CPU), counted.
     */
    static LabelSelection.Draws[] draws(float[] p, int n, long seed, int positions) {
        float[] rows = new float[positions * p.length];
        double[] u = new double[positions * n];
        for (int i = 0; i < positions; i++) {
            System.arraycopy(p, 0, rows, i * p.length, p.length);
            LabelSelection.uniforms(seed, i, n, u, i * n);
        }
        long[] ids;
        try (NDManager m = Engines.pytorch().newBaseManager(Device.cpu());
                CategoricalDraws draws = new CategoricalDraws(m)) {
            ids = draws.draw(m.create(rows, new Shape(positions, p.length)), m.create(u, new Shape(positions, n)))
                    .toLongArray();
        }
        LabelSelection.Draws[] out = new LabelSelection.Draws[positions];
        for (int i = 0; i < positions; i++) {
            out[i] = LabelSelection.Draws.count(ids, i * n, n);
        }
        return out;
    }

    @Test
    void sampleFrequenciesMatchTheDistributionByChiSquare() {
        int n = 20000;
        LabelSelection.Draws d = draws(P, n, 42, 1)[0];
        long[] observed = new long[P.length];
        int total = 0;
        for (int j = 0; j < d.ids().length; j++) {
            observed[d.ids()[j]] = d.counts()[j];
            total += d.counts()[j];
            if (j > 0) {
                assertTrue(d.ids()[j] > d.ids()[j - 1], "distinct ids, ascending");
            }
        }
        assertEquals(n, total);
        assertEquals(0, observed[3], "an id with no mass is never drawn");
        double chi2 = 0;
        for (int v = 0; v < P.length; v++) {
            if (P[v] > 0) {
                double e = n * (double) P[v];
                chi2 += (observed[v] - e) * (observed[v] - e) / e;
            }
        }
        // 5 degrees of freedom: P(chi2 > 20.52) = 0.001
        assertTrue(chi2 < 20.52, "chi2 " + chi2);
    }

    @Test
    void drawsAreAPureFunctionOfRowSeedAndPosition() {
        LabelSelection.Draws[] first = draws(P, 16, 7, 5);
        LabelSelection.Draws a = first[3];
        LabelSelection.Draws b = draws(P, 16, 7, 4)[3];
        LabelSelection.Draws c = first[4];
        assertArrayEquals(a.ids(), b.ids());
        assertArrayEquals(a.counts(), b.counts());
        assertTrue(!java.util.Arrays.equals(a.counts(), c.counts()) || !java.util.Arrays.equals(a.ids(), c.ids()));
    }

    @Test
    void theAverageSampledTargetConvergesToTheDistribution() {
        int n = 16;
        int positions = 4000;
        LogitsSpec spec = LogitsSpec.sample(n, 1.0);
        double[] mean = new double[P.length];
        float[] lp = new float[P.length];
        for (int v = 0; v < P.length; v++) {
            lp[v] = (float) Math.log(P[v]);
        }
        LabelSelection.Draws[] all = draws(P, n, 11, positions);
        for (int i = 0; i < positions; i++) {
            LabelSelection.Draws d = all[i];
            float[] dl = new float[d.ids().length];
            for (int j = 0; j < dl.length; j++) {
                dl[j] = lp[d.ids()[j]];
            }
            double[] w = SampledTargets.weights(spec, dl, d.counts(), 0, dl.length);
            for (int j = 0; j < w.length; j++) {
                mean[d.ids()[j]] += w[j] / positions;
            }
        }
        for (int v = 0; v < P.length; v++) {
            // each weight is count / N: its mean over M positions has standard deviation sqrt(p (1 - p) / (N M))
            double sd = Math.sqrt(P[v] * (1 - P[v]) / ((double) n * positions));
            assertEquals(P[v], mean[v], 5 * sd + 1e-12, "id " + v);
        }
    }

    @Test
    void aHotterProposalIsReweightedBackToTheTeacher() {
        double t = 2.0;
        int n = 64;
        int positions = 3000;
        LogitsSpec spec = LogitsSpec.sample(n, t);
        float[] q = new float[P.length];
        double z = 0;
        for (float p : P) {
            z += Math.pow(p, 1 / t);
        }
        for (int v = 0; v < P.length; v++) {
            q[v] = (float) (Math.pow(P[v], 1 / t) / z);
        }
        double[] mean = new double[P.length];
        LabelSelection.Draws[] all = draws(q, n, 13, positions);
        for (int i = 0; i < positions; i++) {
            LabelSelection.Draws d = all[i];
            float[] dl = new float[d.ids().length];
            for (int j = 0; j < dl.length; j++) {
                dl[j] = (float) Math.log(P[d.ids()[j]]);
            }
            double[] w = SampledTargets.weights(spec, dl, d.counts(), 0, dl.length);
            for (int j = 0; j < w.length; j++) {
                mean[d.ids()[j]] += w[j] / positions;
            }
        }
        for (int v = 0; v < P.length; v++) {
            // self-normalised importance weights: consistent, with a bias of order 1/N
            assertEquals(P[v], mean[v], 0.01, "id " + v);
        }
    }

    @Test
    void topPSetsAreMinimalWithinKmaxAndHoldAtLeastOneEntry() {
        Random r = new Random(3);
        for (int trial = 0; trial < 2000; trial++) {
            int width = 1 + r.nextInt(12);
            float[] sorted = new float[width + 3];
            double remaining = 1;
            for (int j = 0; j < width; j++) {
                double p = remaining * r.nextDouble() * (r.nextBoolean() ? 0.9 : 0.2);
                sorted[3 + j] = (float) Math.log(p);
                remaining -= p;
            }
            java.util.Arrays.sort(sorted, 3, 3 + width);
            for (int a = 3, b = 2 + width; a < b; a++, b--) { // descending
                float x = sorted[a];
                sorted[a] = sorted[b];
                sorted[b] = x;
            }
            double mass = 0.05 + 0.95 * r.nextDouble();
            int s = LabelSelection.topP(sorted, 3, width, mass);
            assertTrue(s >= 1 && s <= width);
            double before = 0;
            for (int j = 0; j < s - 1; j++) {
                before += Math.exp(sorted[3 + j]);
            }
            double at = before + Math.exp(sorted[3 + s - 1]);
            assertTrue(s == 1 || before < mass, "not minimal: " + (s - 1) + " entries hold " + before + " >= " + mass);
            assertTrue(s == width || at >= mass, "stopped early: " + s + " entries hold " + at + " < " + mass);
        }
    }

    @Test
    void fidelityOfAFullTopSetIsExactAndOfATopKIsItsTailKl() {
        float[] lp = new float[P.length];
        double entropy = 0;
        for (int v = 0; v < P.length; v++) {
            lp[v] = (float) Math.log(P[v]);
            entropy -= P[v] > 0 ? P[v] * Math.log(P[v]) : 0;
        }
        LogitsSpec topK = LogitsSpec.topK(P.length);
        double[] all = LabelSelection.fidelity(topK, lp, null, 0, P.length, P.length, entropy);
        assertEquals(1.0, all[0], 1e-6);
        assertEquals(0.0, all[1], 1e-6);
        // top-2 of {0.4, 0.25 | 0.15, 0, 0.1, 0.07, 0.03}: the tail 0.35 spread uniformly over the other 5 ids
        double[] two = LabelSelection.fidelity(LogitsSpec.topK(2), lp, null, 0, 2, P.length, entropy);
        assertEquals(0.65, two[0], 1e-6);
        double kl = 0;
        for (int v = 2; v < P.length; v++) {
            kl += P[v] > 0 ? P[v] * Math.log(P[v] / (0.35 / 5)) : 0;
        }
        assertEquals(kl, two[1], 1e-5);
    }
}
