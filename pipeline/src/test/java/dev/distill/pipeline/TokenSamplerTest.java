package dev.distill.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.distill.model.Engines;
import org.junit.jupiter.api.Test;

class TokenSamplerTest {
    static final float[] LOGITS = {2.0f, 1.0f, 0.5f, -1.0f, 0.0f}; // one row, V = 5

    /** Draws n tokens from LOGITS, one row per seed, all in one batch. */
    static long[] draw(TokenSampler sampler, int n, int step) {
        try (NDManager m = Engines.pytorch().newBaseManager(Device.cpu())) {
            float[] rows = new float[n * LOGITS.length];
            long[] seeds = new long[n];
            for (int i = 0; i < n; i++) {
                System.arraycopy(LOGITS, 0, rows, i * LOGITS.length, LOGITS.length);
                seeds[i] = WorkItem.rowSeed(7, i, 0);
            }
            NDArray logits = m.create(rows, new Shape(n, LOGITS.length)); // [n, V]
            return sampler.on(m).choose(logits, seeds, step).toLongArray();
        }
    }

    static double[] softmax(float[] z, double t) {
        double[] p = new double[z.length];
        double sum = 0;
        for (int i = 0; i < z.length; i++) {
            p[i] = Math.exp(z[i] / t);
            sum += p[i];
        }
        for (int i = 0; i < z.length; i++) {
            p[i] /= sum;
        }
        return p;
    }

    @Test
    void sampledFrequenciesFollowTheTemperedDistribution() {
        int n = 20000;
        long[] tokens = draw(new TokenSampler(false, 1.5f, 1f), n, 0);
        double[] p = softmax(LOGITS, 1.5);
        int[] counts = new int[LOGITS.length];
        for (long t : tokens) {
            counts[(int) t]++;
        }
        for (int v = 0; v < p.length; v++) {
            double sd = Math.sqrt(n * p[v] * (1 - p[v]));
            assertEquals(n * p[v], counts[v], 5 * sd, "token " + v);
        }
    }

    @Test
    void topPKeepsTheSmallestPrefixReachingTheMass() {
        double[] p = softmax(LOGITS, 1.0); // 0.53, 0.20, 0.12, 0.03, 0.07 -> top-0.8 keeps tokens 0, 1, 2
        int n = 20000;
        long[] tokens = draw(new TokenSampler(false, 1f, 0.8f), n, 3);
        int[] counts = new int[LOGITS.length];
        for (long t : tokens) {
            counts[(int) t]++;
        }
        assertEquals(0, counts[3]);
        assertEquals(0, counts[4]);
        double kept = p[0] + p[1] + p[2];
        for (int v = 0; v < 3; v++) {
            double q = p[v] / kept;
            assertEquals(n * q, counts[v], 5 * Math.sqrt(n * q * (1 - q)), "token " + v);
        }
    }

    @Test
    void greedyIsArgmaxAndSamplingIsAPureFunctionOfSeedAndStep() {
        assertArrayEquals(new long[] {0, 0, 0}, draw(new TokenSampler(true, 1f, 1f), 3, 0));
        TokenSampler s = new TokenSampler(false, 1f, 1f);
        assertArrayEquals(draw(s, 64, 5), draw(s, 64, 5));
        assertTrue(!java.util.Arrays.equals(draw(s, 64, 5), draw(s, 64, 6)), "the step must change the draw");
    }

    @Test
    void rowSeedsDifferForEverySeedPromptAndSample() {
        java.util.Set<Long> seen = new java.util.HashSet<>();
        for (long seed = 0; seed < 3; seed++) {
            for (long p = 0; p < 50; p++) {
                for (int s = 0; s < 4; s++) {
                    assertTrue(seen.add(WorkItem.rowSeed(seed, p, s)), seed + "/" + p + "/" + s);
                }
            }
        }
    }

    @Test
    void badOptionsAreRefusedByName() {
        assertEquals(
                "--top-p must be in (0, 1], got 1.5",
                assertThrows(IllegalArgumentException.class, () -> new TokenSampler(false, 1f, 1.5f))
                        .getMessage());
        assertEquals(
                "--temperature must be > 0 in sample mode (use --mode greedy for argmax)",
                assertThrows(IllegalArgumentException.class, () -> new TokenSampler(false, 0f, 1f))
                        .getMessage());
    }
}
