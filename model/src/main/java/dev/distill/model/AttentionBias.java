package dev.distill.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

/**
 * The additive attention bias of one forward call: 0 where query t (at cache slot past + t) may
 * see key slot s (s <= past + t and mask[b, s] = 1, and for a sliding window W also
 * s > past + t - W, as transformers' sliding_window_overlay), -1e9 elsewhere. A finite value keeps
 * rows with nothing visible (left padding) free of NaN, and exp(-1e9 - max) is exactly 0 in float32.
 */
final class AttentionBias {
    static final float MASKED = -1e9f;

    private AttentionBias() {}

    /**
     * attentionMask [B, S] (S = past + T, nonzero = real token) -> bias [B, 1, T, S] float32; with
     * {@code window} > 0 each query sees only itself and the window - 1 slots before it (0: causal only).
     * {@code visible} (0) and {@code masked} (-1e9) are 0-dim float32 arrays on the mask's device.
     */
    static NDArray of(NDArray attentionMask, int past, int t, int window, NDArray visible, NDArray masked) {
        NDManager m = attentionMask.getManager();
        long b = attentionMask.getShape().get(0);
        int s = past + t;
        NDArray keyOk = attentionMask.toType(DataType.BOOLEAN, false).reshape(b, 1, 1, s); // [B, 1, 1, S]
        if (t == 1 && window <= 0) {
            // a decode step: its one query (slot past) sees every slot up to itself, so only the mask hides any
            return JniUtils.where((PtNDArray) keyOk, (PtNDArray) visible, (PtNDArray) masked); // [B, 1, 1, S]
        }
        NDArray query = m.arange(past, s).reshape(t, 1); // [T, 1] cache slot of each query
        NDArray key = m.arange(0, s).reshape(1, s); // [1, S]
        NDArray seen = key.lte(query); // [T, S]
        if (window > 0) {
            NDArray first = m.arange(past - window + 1, s - window + 1).reshape(t, 1); // [T, 1] oldest visible slot
            seen = seen.logicalAnd(key.gte(first)); // [T, S]
        }
        return JniUtils.where(
                (PtNDArray) keyOk.logicalAnd(seen), (PtNDArray) visible, (PtNDArray) masked); // [B, 1, T, S]
    }
}
