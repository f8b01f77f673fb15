package dev.distill.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * cos/sin tables of one forward call's positions, and the rotary embedding applied with them:
 * {@code x * cos + rotate_half(x) * sin}. rotate_half(x) * sin = cat(-x2, x1) * sin is computed
 * as swap_halves(x) * cat(-sin, sin), the swap being one flip of a [.., 2, D/2] view: exact, and no
 * matmul. q and k are rotated together.
 */
final class RotaryTables {
    private final NDArray cos;
    private final NDArray signedSin;

    private RotaryTables(NDArray cos, NDArray signedSin) {
        this.cos = cos;
        this.signedSin = signedSin;
    }

    /**
     * Tables for {@code positionIds} [B, T] (int64) and inverse frequencies {@code invFreq}
     * [D/2] float32, cast to {@code dtype} like transformers does.
     */
    static RotaryTables of(NDArray positionIds, NDArray invFreq, DataType dtype) {
        Shape s = positionIds.getShape();
        long b = s.get(0);
        long t = s.get(1);
        long d = invFreq.getShape().get(0) * 2;
        NDArray freqs = positionIds.toType(DataType.FLOAT32, false).reshape(b, t, 1).mul(invFreq); // [B, T, D/2]
        NDArray cosHalf = freqs.cos(); // [B, T, D/2]
        NDArray sinHalf = freqs.sin(); // [B, T, D/2]
        NDArray cos = cosHalf.concat(cosHalf, 2).reshape(b, t, 1, d); // [B, T, 1, D]
        NDArray signedSin = sinHalf.neg().concat(sinHalf, 2).reshape(b, t, 1, d); // [B, T, 1, D]
        if (dtype != DataType.FLOAT32) {
            cos = cos.toType(dtype, false);
            signedSin = signedSin.toType(dtype, false);
        }
        return new RotaryTables(cos, signedSin);
    }

    /** x [B, T, N, D] -> rotated [B, T, N, D] */
    NDArray apply(NDArray x) {
        Shape s = x.getShape();
        long d = s.get(3);
        NDArray swapped = x.reshape(s.get(0), s.get(1), s.get(2), 2, d / 2).flip(3).reshape(s); // cat(x2, x1)
        return x.mul(cos).add(swapped.mul(signedSin));
    }
}
