package dev.distill.trainer.loss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.distill.model.Engines;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The NDArray losses against {@link DoubleReference} and against identities they must satisfy. */
class DistillLossMathTest {
    private static final Engine ENGINE = Engines.pytorch();
    private static final int N = 5;
    private static final int V = 10;
    private static final int K = 3;

    /** A random teacher/student pair: teacher top-k stored as fp32 log-probs, as the data files hold them. */
    private static final class Case {
        final float[][] z = new float[N][V];
        final double[][] teacherLogits = new double[N][V];
        final long[][] ids = new long[N][K];
        final float[][] lp = new float[N][K];

        Case(long seed) {
            Random r = new Random(seed);
            for (int n = 0; n < N; n++) {
                for (int v = 0; v < V; v++) {
                    z[n][v] = (float) (2 * r.nextGaussian());
                    teacherLogits[n][v] = 2 * r.nextGaussian();
                }
                setTeacherRow(n, teacherLogits[n]);
            }
        }

        void setTeacherRow(int n, double[] logits) {
            teacherLogits[n] = logits.clone();
            double lse = DoubleReference.logSumExp(logits);
            Integer[] order = new Integer[V];
            for (int v = 0; v < V; v++) {
                order[v] = v;
            }
            Arrays.sort(order, (a, b) -> Double.compare(logits[b], logits[a]));
            for (int i = 0; i < K; i++) {
                ids[n][i] = order[i];
                lp[n][i] = (float) (logits[order[i]] - lse);
            }
        }

        double expected(int n, String loss, String tail, double t, double beta) {
            double[] zd = new double[V];
            for (int v = 0; v < V; v++) {
                zd[v] = z[n][v];
            }
            double[] lpd = new double[K];
            for (int i = 0; i < K; i++) {
                lpd[i] = lp[n][i];
            }
            return DoubleReference.loss(zd, ids[n], lpd, loss, tail, t, beta);
        }
    }

    static Stream<Arguments> configurations() {
        List<Arguments> out = new ArrayList<>();
        String[][] losses = {
            {"forward-kl", "0.5"}, {"reverse-kl", "0.5"}, {"jsd", "0.3"}, {"jsd", "0.9"}, {"tvd", "0.5"}
        };
        for (String[] l : losses) {
            for (String tail : new String[] {"zero", "bucket"}) {
                for (double t : new double[] {1.0, 2.0, 0.5}) {
                    out.add(Arguments.of(l[0], tail, t, Double.parseDouble(l[1])));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} tail={1} T={2} beta={3}")
    @MethodSource("configurations")
    void equalsPlainDoubleComputation(String loss, String tail, double t, double beta) {
        Case c = new Case(3);
        float[] got = perPosition(c, DistillLoss.of(loss, tail, t, beta));
        for (int n = 0; n < N; n++) {
            double want = c.expected(n, loss, tail, t, beta);
            assertEquals(want, got[n], 1e-5 + 1e-5 * Math.abs(want), loss + " row " + n);
        }
    }

    @Test
    void jsdEndpointsAreForwardAndReverseKlAsInTrl() {
        Case c = new Case(5);
        for (String tail : new String[] {"zero", "bucket"}) {
            assertArrayEquals(
                    perPosition(c, DistillLoss.of("forward-kl", tail, 2, 0)),
                    perPosition(c, DistillLoss.of("jsd", tail, 2, 0.0)));
            assertArrayEquals(
                    perPosition(c, DistillLoss.of("reverse-kl", tail, 2, 0)),
                    perPosition(c, DistillLoss.of("jsd", tail, 2, 1.0)));
            // beta weighs the teacher: swapping beta and 1 - beta changes an asymmetric case.
            float[] b3 = perPosition(c, DistillLoss.of("jsd", tail, 1, 0.3));
            float[] b7 = perPosition(c, DistillLoss.of("jsd", tail, 1, 0.7));
            assertTrue(Math.abs(b3[0] - b7[0]) > 1e-3, "jsd(0.3) vs jsd(0.7): " + b3[0] + " " + b7[0]);
        }
    }

    @Test
    void studentEqualToTeacherCostsNothing() {
        Case c = new Case(7);
        for (int n = 0; n < N; n++) {
            for (int v = 0; v < V; v++) {
                c.z[n][v] = (float) c.teacherLogits[n][v];
            }
        }
        for (String loss : new String[] {"forward-kl", "reverse-kl", "jsd", "tvd"}) {
            for (String tail : new String[] {"zero", "bucket"}) {
                for (double t : new double[] {1, 2}) {
                    float[] got = perPosition(c, DistillLoss.of(loss, tail, t, 0.5));
                    for (float g : got) {
                        assertEquals(0, g, 1e-6, loss + " " + tail + " T=" + t);
                    }
                }
            }
        }
    }

    @Test
    void forwardKlGradientIsStudentMinusTeacherOnTheSupport() {
        Case c = new Case(11);
        for (String tail : new String[] {"zero", "bucket"}) {
            float[] grad = gradient(c, DistillLoss.of("forward-kl", tail, 1, 0));
            for (int n = 0; n < N; n++) {
                double[] zd = new double[V];
                for (int v = 0; v < V; v++) {
                    zd[v] = c.z[n][v];
                }
                double[] lpd = new double[K];
                for (int i = 0; i < K; i++) {
                    lpd[i] = c.lp[n][i];
                }
                DoubleReference.Pair d = DoubleReference.support(zd, c.ids[n], lpd, tail, 1);
                double[] full = DoubleReference.softmax(zd, 1);
                boolean[] in = new boolean[V];
                for (int i = 0; i < K; i++) {
                    int id = (int) c.ids[n][i];
                    in[id] = true;
                    double want = d.q()[i] - d.p()[i]; // dKL/dz = q - p on the support
                    assertEquals(want, grad[n * V + id], 1e-6, tail + " row " + n + " id " + id);
                    assertEquals(Math.signum(want), Math.signum(grad[n * V + id]), "sign at a top-k id");
                }
                for (int v = 0; v < V; v++) {
                    if (!in[v]) {
                        // zero: logits outside the top k do not matter; bucket: q_v (1 - p_tail / q_tail)
                        double want = tail.equals("zero") ? 0 : full[v] * (1 - d.p()[K] / d.q()[K]);
                        assertEquals(want, grad[n * V + v], 1e-6, tail + " row " + n + " tail id " + v);
                    }
                }
            }
        }
    }

    @Test
    void extremeRowsStayFiniteWithClampedTails() {
        Case c = new Case(13);
        // Row 0: the student is certain of a top-k token: its tail e^-100 underflows fp32 and is floored.
        Arrays.fill(c.z[0], 0f);
        c.z[0][(int) c.ids[0][0]] = 100f;
        // Row 1: stored teacher log-probs sum above 1 (rounding in the generator): tail clamped to 1e-6.
        Arrays.fill(c.lp[1], (float) Math.log(0.5));
        // Row 2: the teacher gave -inf to tokens it can never emit (a filtered vocabulary).
        c.lp[2][1] = Float.NEGATIVE_INFINITY;
        c.lp[2][2] = Float.NEGATIVE_INFINITY;
        for (String loss : new String[] {"forward-kl", "reverse-kl", "jsd", "tvd"}) {
            for (String tail : new String[] {"zero", "bucket"}) {
                DistillLoss kd = DistillLoss.of(loss, tail, 2, 0.5);
                for (float v : perPosition(c, kd)) {
                    assertTrue(Float.isFinite(v), loss + " " + tail + " loss " + v);
                }
                for (float g : gradient(c, kd)) {
                    assertTrue(Float.isFinite(g), loss + " " + tail + " gradient " + g);
                }
            }
        }
        // Row 1 bucket: the teacher's tail is exactly the 1e-6 floor before renormalisation.
        double[] zd = new double[V];
        for (int v = 0; v < V; v++) {
            zd[v] = c.z[1][v];
        }
        double want = DoubleReference.loss(
                zd, c.ids[1], new double[] {Math.log(0.5), Math.log(0.5), Math.log(0.5)}, "forward-kl", "bucket", 1, 0);
        assertEquals(want, perPosition(c, DistillLoss.of("forward-kl", "bucket", 1, 0))[1], 1e-5);
    }

    @Test
    void halfPrecisionLogitsArePromotedWithoutCuttingTheGraph() {
        Case c = new Case(17);
        DistillLoss kd = DistillLoss.of("forward-kl", "bucket", 2, 0);
        float[] grad32 = gradient(c, kd);
        try (NDManager m = ENGINE.newBaseManager(Device.cpu())) {
            NDArray z16 = m.create(c.z).toType(DataType.FLOAT16, false); // [N, V] fp16 leaf
            z16.setRequiresGradient(true);
            NDArray loss;
            try (GradientCollector gc = ENGINE.newGradientCollector()) {
                loss = kd.perPosition(z16, m.create(c.ids), m.create(c.lp), m.ones(new Shape(N)));
                gc.backward(loss.sum());
            }
            assertEquals(DataType.FLOAT32, loss.getDataType());
            float[] grad16 = z16.getGradient().toType(DataType.FLOAT32, false).toFloatArray();
            for (int i = 0; i < grad32.length; i++) {
                assertEquals(grad32[i], grad16[i], 2e-3 + 1e-2 * Math.abs(grad32[i]), "gradient " + i);
            }
        }
    }

    private static float[] perPosition(Case c, DistillLoss kd) {
        try (NDManager m = ENGINE.newBaseManager(Device.cpu())) {
            return kd.perPosition(m.create(c.z), m.create(c.ids), m.create(c.lp), m.ones(new Shape(N)))
                    .toFloatArray();
        }
    }

    private static float[] gradient(Case c, DistillLoss kd) {
        try (NDManager m = ENGINE.newBaseManager(Device.cpu())) {
            NDArray z = m.create(c.z); // [N, V]
            z.setRequiresGradient(true);
            try (GradientCollector gc = ENGINE.newGradientCollector()) {
                gc.backward(kd.perPosition(z, m.create(c.ids), m.create(c.lp), m.ones(new Shape(N)))
                        .sum());
            }
            return z.getGradient().toFloatArray();
        }
    }
}
