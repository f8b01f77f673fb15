package dev.distill.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The device's draws are exactly the integer inverse CDF the class documents, whatever the batch. */
class CategoricalDrawsTest {
    /** The documented draw, in Java: q = floor(p * 2^52), the first id whose cumulative q exceeds floor(u * total). */
    static long[] reference(float[] p, double[] u) {
        long[] cdf = new long[p.length];
        long sum = 0;
        for (int v = 0; v < p.length; v++) {
            sum += (long) (p[v] * CategoricalDraws.SCALE);
            cdf[v] = sum;
        }
        long[] ids = new long[u.length];
        for (int i = 0; i < u.length; i++) {
            long target = Math.min((long) Math.floor(u[i] * (double) sum), sum - 1);
            int v = 0;
            while (cdf[v] <= target) {
                v++;
            }
            ids[i] = v;
        }
        Arrays.sort(ids);
        return ids;
    }

    @Test
    void drawsAreTheIntegerInverseCdfOfEachRowAloneOrInABatch() {
        Random r = new Random(5);
        int rows = 6;
        int vocab = 3000;
        int n = 64;
        float[] probs = new float[rows * vocab];
        double[] u = new double[rows * n];
        for (int b = 0; b < rows; b++) {
            double z = 0;
            double[] w = new double[vocab];
            for (int v = 0; v < vocab; v++) {
                // peaked rows with exact zeros and tiny masses (below 2^-52 some ids cannot be drawn)
                w[v] = v % 7 == 3 ? 0 : Math.exp(r.nextGaussian() * (1 + 4 * b));
                z += w[v];
            }
            for (int v = 0; v < vocab; v++) {
                probs[b * vocab + v] = (float) (w[v] / z);
            }
            for (int i = 0; i < n; i++) {
                u[b * n + i] = i == 0 ? 0 : i == 1 ? Math.nextDown(1.0) : r.nextDouble();
            }
        }
        try (NDManager m = Engines.pytorch().newBaseManager(Device.cpu());
                CategoricalDraws draws = new CategoricalDraws(m)) {
            long[] batch = draws.draw(m.create(probs, new Shape(rows, vocab)), m.create(u, new Shape(rows, n)))
                    .toLongArray();
            for (int b = 0; b < rows; b++) {
                float[] p = Arrays.copyOfRange(probs, b * vocab, (b + 1) * vocab);
                double[] ub = Arrays.copyOfRange(u, b * n, (b + 1) * n);
                long[] expected = reference(p, ub);
                assertArrayEquals(expected, Arrays.copyOfRange(batch, b * n, (b + 1) * n), "row " + b);
                long[] alone = draws.draw(m.create(p, new Shape(1, vocab)), m.create(ub, new Shape(1, n)))
                        .toLongArray();
                assertArrayEquals(expected, alone, "row " + b + " alone");
                for (long id : expected) {
                    assertEquals(false, id % 7 == 3, "an id of zero mass was drawn");
                }
            }
        }
    }
}
