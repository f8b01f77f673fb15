package dev.distill.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * cos/sin tables of one forward call's positions, and the rotary embedding applied with them:
 * {@code x * cos + rotate_half(x) * sin}, where rotate_half is one matmul with a fixed [D, D]
 * signed permutation (exact: one nonzero per column), so rotating q and k together is 4 ops.
 */
final class RotaryTables {
    private final NDArray cos;
    private final NDArray sin;
    private final NDArray rotateHalf;

    private RotaryTables(NDArray cos, NDArray sin, NDArray rotateHalf) {
        this.cos = cos;
        this.sin = sin;
        this.rotateHalf = rotateHalf;
    }

    /**
     * Tables for {@code positionIds} [B, T] (int64) and inverse frequencies {@code invFreq}
     * [D/2] float32, cast to {@code dtype} like transformers does.
     */
    static RotaryTables of(NDArray positionIds, NDArray invFreq, NDArray rotateHalf, DataType dtype) {
        Shape s = positionIds.getShape();
        long b = s.get(0);
        long t = s.get(1);
        long d = invFreq.getShape().get(0) * 2;
        NDArray freqs = positionIds.toType(DataType.FLOAT32, false).reshape(b, t, 1).mul(invFreq); // [B, T, D/2]
        NDArray emb = freqs.concat(freqs, 2); // [B, T, D]
        NDArray cos = emb.cos().reshape(b, t, 1, d); // [B, T, 1, D]
        NDArray sin = emb.sin().reshape(b, t, 1, d); // [B, T, 1, D]
        if (dtype != DataType.FLOAT32) {
            cos = cos.toType(dtype, false);
            sin = sin.toType(dtype, false);
        }
        return new RotaryTables(cos, sin, rotateHalf);
    }

    /** x [B, T, N, D] -> rotated [B, T, N, D] */
    NDArray apply(NDArray x) {
        return x.mul(cos).add(x.matMul(rotateHalf).mul(sin));
    }

    /** The [D, D] matrix R with x @ R = cat(-x[D/2:], x[:D/2]) (transformers' rotate_half). */
    static float[] rotateHalfMatrix(int d) {
        float[] r = new float[d * d]; // row-major [D, D]
        int half = d / 2;
        for (int j = 0; j < half; j++) {
            r[(j + half) * d + j] = -1f;
            r[j * d + j + half] = 1f;
        }
        return r;
    }
}
