package dev.distill.trainer.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import java.util.Collection;

/** Global-norm gradient clipping, as {@code torch.nn.utils.clip_grad_norm_} (DJL's optClipGrad is per element). */
public final class GradClip {
    private GradClip() {}

    /**
     * Computes the L2 norm over all gradients together (in fp32, one host copy) and, when it exceeds
     * {@code maxNorm}, scales every gradient in place by maxNorm / (norm + 1e-6).
     *
     * <p>A non-finite norm (inf/NaN gradients, e.g. an fp16 overflow) is returned as is and the
     * gradients are left untouched: the caller must skip the optimizer step.
     *
     * @param grads gradient views, e.g. {@link Gradients#of(java.util.Map)}
     * @param maxNorm clipping threshold; {@code Double.POSITIVE_INFINITY} only measures
     * @return the pre-clip global norm
     */
    public static float globalNorm(Collection<NDArray> grads, double maxNorm) {
        if (!(maxNorm > 0)) {
            throw new IllegalArgumentException("--max-grad-norm: expected a positive number, got " + maxNorm);
        }
        if (grads.isEmpty()) {
            return 0f;
        }
        float norm;
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning(); // closes this block's temporaries
            NDArray sumSq = null; // []
            for (NDArray g : grads) {
                NDArray g32 = g.getDataType() == DataType.FLOAT32 ? g : g.toType(DataType.FLOAT32, false);
                NDArray sq = g32.square().sum(); // []
                sumSq = sumSq == null ? sq : sumSq.add(sq);
            }
            norm = sumSq.sqrt().getFloat();
        }
        if (!Float.isFinite(norm)) {
            return norm;
        }
        double coef = maxNorm / (norm + 1e-6);
        if (coef < 1) {
            NDArray first = grads.iterator().next();
            try (NDArray scale = first.getManager().create((float) coef)) { // once, not one host copy per gradient
                for (NDArray g : grads) {
                    g.muli(scale);
                }
            }
        }
        return norm;
    }
}
