package dev.distill.trainer.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.distill.model.Engines;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** ULD and GOLD on small tensors against a direct computation in doubles, and GOLD's identity with forward KL. */
class CrossTokenizerLossTest {
    private static final Engine ENGINE = Engines.pytorch();
    private static final int NS = 5; // student completion positions
    private static final int V = 8; // student vocabulary
    private static final int K = 3; // teacher top-k

    /** Three groups: {0}, {1, 2} (a merged pair), {3, 4} (a merged pair); teacher ids partly twinned. */
    private static final long[] FIRST = {0, 1, 3};

    private static final long[][] REST = {{0}, {2}, {4}};
    private static final float[][] REST_MASK = {{0}, {1}, {1}};
    private static final long[] TARGETS = {5, 2, 7, 1, 3};
    private static final long[][] MAPPED = {{4, 0, 2}, {1, 0, 0}, {6, 3, 0}};
    private static final float[][] MATCHED = {{1, 0, 1}, {1, 0, 0}, {1, 1, 0}};
    private static final boolean[] HAS_TWIN = {false, true, true, true, true, false, true, false};

    private final float[][] z = new float[NS][V];
    private final float[][] lp = new float[3][K];

    CrossTokenizerLossTest() {
        Random r = new Random(7);
        for (float[] row : z) {
            for (int v = 0; v < V; v++) {
                row[v] = (float) (2 * r.nextGaussian());
            }
        }
        for (int g = 0; g < 3; g++) { // a descending teacher top-3 with mass < 1, merged with a suffix log-prob
            double suffix = g == 0 ? 0 : Math.log(0.3 + 0.2 * g);
            double[] p = {0.5 - 0.1 * g, 0.2, 0.1 + 0.02 * g};
            for (int c = 0; c < K; c++) {
                lp[g][c] = (float) (Math.log(p[c]) + suffix);
            }
        }
    }

    @Test
    void uldAndGoldEqualTheDirectComputation() {
        for (CrossTokenizerLoss.Kind kind : CrossTokenizerLoss.Kind.values()) {
            double w = 0.7;
            try (NDManager m = ENGINE.newBaseManager()) {
                float[] got = new CrossTokenizerLoss(kind, w)
                        .perGroup(m.create(flat(z), new Shape(NS, V)), groups(m))
                        .toFloatArray();
                for (int g = 0; g < 3; g++) {
                    double[] merged = merged(g);
                    double expected = kind == CrossTokenizerLoss.Kind.ULD
                            ? uld(merged, g)
                            : w * matchedKl(merged, g) + (1 - w) * unmatchedUld(merged, g);
                    assertEquals(expected, got[g], 2e-5, kind + " group " + g);
                }
            }
        }
    }

    @Test
    void gradientsReachEveryStudentPositionOfAGroup() {
        try (NDManager m = ENGINE.newBaseManager()) {
            NDArray logits = m.create(flat(z), new Shape(NS, V));
            logits.setRequiresGradient(true);
            try (GradientCollector c = ENGINE.newGradientCollector()) {
                c.backward(new CrossTokenizerLoss(CrossTokenizerLoss.Kind.GOLD, 0.5)
                        .perGroup(logits, groups(m))
                        .sum());
            }
            float[] grad = logits.getGradient().toFloatArray();
            for (int s = 0; s < NS; s++) {
                double norm = 0;
                for (int v = 0; v < V; v++) {
                    assertTrue(Float.isFinite(grad[s * V + v]));
                    norm += Math.abs(grad[s * V + v]);
                }
                assertTrue(norm > 1e-6, "position " + s + " gets a gradient (first or merged token of a group)");
            }
        }
    }

    /** With one student token per teacher token and every id twinned, GOLD's KL is forward KL with the tail bucket. */
    @Test
    void goldOnTwinnedOneToOneGroupsIsForwardKlWithTheTailBucket() {
        try (NDManager m = ENGINE.newBaseManager()) {
            NDArray logits = m.create(flat(z), new Shape(NS, V));
            long[] ids = {1, 4, 6, 2, 3, 5, 0, 7, 2, 6, 1, 3, 4, 0, 5};
            float[] teacher = new float[NS * K];
            for (int s = 0; s < NS; s++) {
                double[] p = {0.6 - 0.05 * s, 0.2, 0.1};
                for (int c = 0; c < K; c++) {
                    teacher[s * K + c] = (float) Math.log(p[c]);
                }
            }
            float[] ones = new float[NS * K];
            Arrays.fill(ones, 1f);
            AlignedGroups oneToOne = new AlignedGroups(
                    m.arange(0L, (long) NS),
                    m.zeros(new Shape(NS, 0), ai.djl.ndarray.types.DataType.INT64),
                    m.zeros(new Shape(NS, 0)),
                    m.create(TARGETS),
                    m.create(teacher, new Shape(NS, K)),
                    m.create(ids, new Shape(NS, K)),
                    m.create(ones, new Shape(NS, K)),
                    m.zeros(new Shape(V)));
            float[] gold = new CrossTokenizerLoss(CrossTokenizerLoss.Kind.GOLD, 1.0)
                    .perGroup(logits, oneToOne)
                    .toFloatArray();
            float[] kl = DistillLoss.of("forward-kl", "bucket", 1.0, 0.5)
                    .perPosition(
                            logits,
                            m.create(ids, new Shape(NS, K)),
                            m.create(teacher, new Shape(NS, K)),
                            m.ones(new Shape(NS)))
                    .toFloatArray();
            for (int s = 0; s < NS; s++) {
                assertEquals(kl[s], gold[s], 1e-5, "position " + s);
            }
        }
    }

    private AlignedGroups groups(NDManager m) {
        float[] penalty = new float[V];
        for (int v = 0; v < V; v++) {
            penalty[v] = HAS_TWIN[v] ? -1e4f : 0f;
        }
        return new AlignedGroups(
                m.create(FIRST),
                m.create(flat(REST), new Shape(3, 1)),
                m.create(flat(REST_MASK), new Shape(3, 1)),
                m.create(TARGETS),
                m.create(flat(lp), new Shape(3, K)),
                m.create(flat(MAPPED), new Shape(3, K)),
                m.create(flat(MATCHED), new Shape(3, K)),
                m.create(penalty));
    }

    private double[] logSoftmax(int s) {
        double[] row = new double[V];
        for (int v = 0; v < V; v++) {
            row[v] = z[s][v];
        }
        double lse = DoubleReference.logSumExp(row);
        for (int v = 0; v < V; v++) {
            row[v] -= lse;
        }
        return row;
    }

    private double[] merged(int g) {
        double[] out = logSoftmax((int) FIRST[g]);
        double suffix = 0;
        if (REST_MASK[g][0] == 1) {
            int s = (int) REST[g][0];
            suffix = logSoftmax(s)[(int) TARGETS[s]];
        }
        for (int v = 0; v < V; v++) {
            out[v] += suffix;
        }
        return out;
    }

    /** The k largest exp(values) of the entries allowed, descending. */
    private static double[] topProbs(double[] logp, boolean[] allowed, int k) {
        return Arrays.stream(range(logp.length))
                .filter(v -> allowed == null || allowed[v])
                .mapToDouble(v -> Math.exp(logp[v]))
                .boxed()
                .sorted((a, b) -> Double.compare(b, a))
                .mapToDouble(Double::doubleValue)
                .limit(k)
                .toArray();
    }

    private double uld(double[] merged, int g) {
        double[] q = topProbs(merged, null, K);
        double sumP = 0;
        double sumQ = 0;
        double l1 = 0;
        for (int c = 0; c < K; c++) {
            double p = Math.exp(lp[g][c]);
            l1 += Math.abs(p - q[c]);
            sumP += p;
            sumQ += q[c];
        }
        return l1 + Math.abs((1 - sumP) - (1 - sumQ));
    }

    private double matchedKl(double[] merged, int g) {
        double direct = 0;
        double sumP = 0;
        double sumQ = 0;
        for (int c = 0; c < K; c++) {
            if (MATCHED[g][c] == 1) {
                double p = Math.exp(lp[g][c]);
                double q = Math.exp(merged[(int) MAPPED[g][c]]);
                direct += p * (lp[g][c] - merged[(int) MAPPED[g][c]]);
                sumP += p;
                sumQ += q;
            }
        }
        double pr = Math.max(1 - sumP, 1e-6);
        double qr = Math.max(1 - sumQ, 1e-6);
        return direct + pr * Math.log(pr / qr);
    }

    private double unmatchedUld(double[] merged, int g) {
        double[] p = new double[K];
        for (int c = 0; c < K; c++) {
            p[c] = MATCHED[g][c] == 1 ? 0 : Math.exp(lp[g][c]);
        }
        Arrays.sort(p);
        boolean[] noTwin = new boolean[V];
        for (int v = 0; v < V; v++) {
            noTwin[v] = !HAS_TWIN[v];
        }
        double[] q = topProbs(merged, noTwin, K); // 3 student ids have no twin
        double l1 = 0;
        for (int c = 0; c < K; c++) {
            l1 += Math.abs(p[K - 1 - c] - q[c]);
        }
        return l1;
    }

    private static int[] range(int n) {
        int[] r = new int[n];
        for (int i = 0; i < n; i++) {
            r[i] = i;
        }
        return r;
    }

    private static float[] flat(float[][] a) {
        float[] out = new float[a.length * a[0].length];
        for (int i = 0; i < a.length; i++) {
            System.arraycopy(a[i], 0, out, i * a[0].length, a[i].length);
        }
        return out;
    }

    private static long[] flat(long[][] a) {
        long[] out = new long[a.length * a[0].length];
        for (int i = 0; i < a.length; i++) {
            System.arraycopy(a[i], 0, out, i * a[0].length, a[i].length);
        }
        return out;
    }
}
