package dev.distill.trainer.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/** Reads the reference numbers written by tools/scripts/check_losses_torch.py and compares arrays. */
public final class TorchReference {
    private TorchReference() {}

    /** Parses {@code torch-reference/<name>} from the test classpath. */
    public static JsonNode load(String name) {
        String path = "/torch-reference/" + name;
        try (InputStream in = TorchReference.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException(
                        "missing test resource " + path + " (regenerate with tools/scripts/check_losses_torch.py)");
            }
            return new ObjectMapper().readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A JSON number array of any nesting, flattened row-major. */
    public static double[] flat(JsonNode node) {
        int n = count(node);
        double[] out = new double[n];
        fill(node, out, 0);
        return out;
    }

    /** The shape of a rectangular JSON array. */
    public static Shape shape(JsonNode node) {
        if (!node.isArray()) {
            return new Shape();
        }
        Shape inner = shape(node.get(0));
        long[] dims = new long[inner.dimension() + 1];
        dims[0] = node.size();
        System.arraycopy(inner.getShape(), 0, dims, 1, inner.dimension());
        return new Shape(dims);
    }

    /** A float32 NDArray holding the JSON array. */
    public static NDArray floats(NDManager manager, JsonNode node) {
        double[] d = flat(node);
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return manager.create(f, shape(node));
    }

    /** An int64 NDArray holding the JSON array. */
    public static NDArray longs(NDManager manager, JsonNode node) {
        double[] d = flat(node);
        long[] l = new long[d.length];
        for (int i = 0; i < d.length; i++) {
            l[i] = (long) d[i];
        }
        return manager.create(l, shape(node));
    }

    /** Asserts |actual - expected| <= atol + rtol * |expected| element-wise, naming the first mismatch. */
    public static void assertClose(double[] expected, float[] actual, double atol, double rtol, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            assertTrue(Float.isFinite(actual[i]), what + "[" + i + "] is not finite: " + actual[i]);
            double tol = atol + rtol * Math.abs(expected[i]);
            assertTrue(
                    Math.abs(actual[i] - expected[i]) <= tol,
                    what + "[" + i + "]: expected " + expected[i] + " got " + actual[i] + " (tol " + tol + ")");
        }
    }

    private static int count(JsonNode node) {
        if (!node.isArray()) {
            return 1;
        }
        int n = 0;
        for (JsonNode c : node) {
            n += count(c);
        }
        return n;
    }

    private static int fill(JsonNode node, double[] out, int at) {
        if (!node.isArray()) {
            out[at] = node.asDouble();
            return at + 1;
        }
        for (JsonNode c : node) {
            at = fill(c, out, at);
        }
        return at;
    }
}
