package dev.distill.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

/**
 * The rotary embedding's cos/sin of positions 0 .. N-1, computed once (float32, cast to the model
 * dtype like transformers does) and grown when a forward reaches further; a forward looks its
 * positions up with one indexing call. rotate_half(x) * sin = cat(-x2, x1) * sin is computed as
 * swap_halves(x) * cat(-sin, sin), the swap being one flip of the [.., 2, D/2] view of each head:
 * exact, and no matmul.
 */
final class RotaryTables {
    private final NDManager manager;
    private final NDArray invFreq;
    private final DataType dtype;
    private final long halfDim;
    private final NDArray rotatedHeads; // [1, 1, Hq+2Hkv, 1, 1] bool: true for the q and k heads
    private final NDArray one;
    private final NDArray zero;
    private NDArray table; // [N, 2D] model dtype: cat(cos, cos) ++ cat(-sin, sin) of each position

    /**
     * @param invFreq [D/2] float32 inverse frequencies, on the model's device
     * @param rotated heads rotated (the Hq query and Hkv key heads) of {@code heads} (q, k and v heads)
     */
    RotaryTables(NDManager manager, NDArray invFreq, DataType dtype, int rotated, int heads) {
        this.manager = manager;
        this.invFreq = invFreq;
        this.dtype = dtype;
        this.halfDim = invFreq.getShape().get(0);
        boolean[] kinds = new boolean[heads];
        java.util.Arrays.fill(kinds, 0, rotated, true);
        rotatedHeads = manager.create(kinds, new Shape(1, 1, heads, 1, 1));
        one = manager.create(1f).toType(dtype, false);
        zero = manager.create(0f).toType(dtype, false);
    }

    /**
     * cos/sin of {@code positionIds} [B, T] (int64, every value below {@code bound}). For T = 1 (a
     * decode step) the tables cover all Hq+2Hkv heads, cos 1 and sin 0 on the value heads, so
     * {@link Rotation#apply} is four calls; otherwise they broadcast over the heads.
     */
    Rotation lookup(NDArray positionIds, int bound) {
        Shape s = positionIds.getShape();
        long b = s.get(0);
        long t = s.get(1);
        NDArray rows = Ops.selectRows(table(bound), positionIds); // [B, T, 2D]
        NDList cosAndSin = rows.reshape(b, t, 2, 2, halfDim).split(2, 2); // 2 x [B, T, 1, 2, D/2]
        NDArray cos = cosAndSin.get(0);
        NDArray signedSin = cosAndSin.get(1);
        if (t != 1) {
            return new Rotation(cos, signedSin, false);
        }
        return new Rotation(
                where(rotatedHeads, cos, one), where(rotatedHeads, signedSin, zero), true); // [B, 1, Hq+2Hkv, 2, D/2]
    }

    /** [1, 1, Hq+2Hkv, 1, 1] bool: true for the heads a decode step's tables rotate (the query and key heads). */
    NDArray rotatedHeads() {
        return rotatedHeads;
    }

    /** The value heads' cos (1) and sin (0) in a decode step's tables: 0-dim, the model dtype. */
    NDArray[] identity() {
        return new NDArray[] {one, zero};
    }

    private static NDArray where(NDArray condition, NDArray x, NDArray y) {
        return JniUtils.where((PtNDArray) condition, (PtNDArray) x, (PtNDArray) y);
    }

    /** The table [N, 2D] with at least {@code positions} rows (grown to the next power of two, at least 256). */
    synchronized NDArray table(int positions) {
        if (table != null && table.getShape().get(0) >= positions) {
            return table;
        }
        int n = Math.max(256, Integer.highestOneBit(Math.max(1, positions - 1)) << 1);
        NDArray grown;
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray freqs = manager.arange(0f, (float) n).reshape(n, 1).mul(invFreq); // [N, D/2] float32
            NDArray cosHalf = freqs.cos();
            NDArray sinHalf = freqs.sin();
            grown = cosHalf.concat(cosHalf, 1)
                    .concat(sinHalf.neg(), 1)
                    .concat(sinHalf, 1)
                    .toType(dtype, false); // [N, 2D]
            NDScope.unregister(grown);
        }
        grown.attach(manager);
        if (table != null) {
            table.close();
        }
        table = grown;
        return table;
    }

    /** One forward's cos and signed sin: [B, T, 1, 2, D/2] (broadcast over heads) or [B, 1, Hq+2Hkv, 2, D/2]. */
    record Rotation(NDArray cos, NDArray signedSin, boolean perHead) {
        /**
         * x [B, T, Hq+2Hkv, 2, D/2] (the heads' halves) -> the same with the first {@code rotated}
         * (query and key) heads rotated: x * cos + swap_halves(x) * cat(-sin, sin).
         */
        NDArray apply(NDArray x, long rotated) {
            if (perHead) {
                return x.mul(cos).add(x.flip(3).mul(signedSin)); // value heads: x * 1 + swapped * 0 = x
            }
            NDList qkAndV = x.split(new long[] {rotated}, 2);
            return rotate(qkAndV.get(0)).concat(qkAndV.get(1), 2);
        }

        /** qk [B, T, Hq+Hkv, 2, D/2], the query and key heads only, all rotated; tables of T > 1 (not per head). */
        NDArray rotate(NDArray qk) {
            return qk.mul(cos).add(qk.flip(3).mul(signedSin));
        }
    }
}
