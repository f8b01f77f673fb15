package dev.distill.trainer.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

/** Value relations against a hand computation, and the relation-head re-split across different head counts. */
class ValueRelationLossTest {
    @Test
    void matchesAHandComputedKl() {
        try (NDManager m = NDManager.newBaseManager()) {
            // One row of 3 tokens, the last one padding; one head of width 1: relations v_q * v_k.
            float[] t = {1f, 2f, 7f};
            float[] s = {0.5f, -1f, 3f};
            double expected = 0; // query 0 sees only key 0 (KL 0); query 1 sees keys 0 and 1; query 2 is padding
            double[] p = softmax(t[1] * t[0], t[1] * t[1]);
            double[] q = softmax(s[1] * s[0], s[1] * s[1]);
            for (int k = 0; k < 2; k++) {
                expected += p[k] * Math.log(p[k] / q[k]);
            }
            float got = ValueRelationLoss.sum(
                            m.create(t, new Shape(1, 1, 3, 1)),
                            m.create(s, new Shape(1, 1, 3, 1)),
                            m.create(new long[] {1, 1, 0}, new Shape(1, 3)),
                            m.create(new float[] {1, 1, 0}, new Shape(1, 3)),
                            1)
                    .getFloat();
            assertEquals(expected, got, 1e-6);
        }
    }

    @Test
    void reSplittingGivesTheSameRelationsWhateverTheHeadLayout() {
        try (NDManager m = NDManager.newBaseManager()) {
            // The same concatenated values as 2 heads x 4 and as 4 heads x 2: with R = 2 relation heads both are
            // re-split identically, so the KL between them is 0.
            float[] v = new float[3 * 8];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) Math.sin(i * 0.7);
            }
            var concat = m.create(v, new Shape(1, 3, 8)); // [B, T, Hkv * D]
            var twoHeads = concat.reshape(1, 3, 2, 4).transpose(0, 2, 1, 3); // [B, 2, T, 4]
            var fourHeads = concat.reshape(1, 3, 4, 2).transpose(0, 2, 1, 3); // [B, 4, T, 2]
            float kl = ValueRelationLoss.sum(
                            twoHeads,
                            fourHeads,
                            m.create(new long[] {1, 1, 1}, new Shape(1, 3)),
                            m.create(new float[] {1, 1, 1}, new Shape(1, 3)),
                            2)
                    .getFloat();
            assertEquals(0f, kl, 1e-7);
        }
    }

    private static double[] softmax(double a, double b) {
        double mx = Math.max(a, b);
        double ea = Math.exp(a - mx);
        double eb = Math.exp(b - mx);
        return new double[] {ea / (ea + eb), eb / (ea + eb)};
    }
}
