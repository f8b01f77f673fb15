package dev.distill.trainer.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.distill.model.ClipGradNorm;
import java.util.List;

/** Global-norm gradient clipping, as {@code torch.nn.utils.clip_grad_norm_} (DJL's optClipGrad is per element). */
public final class GradClip implements AutoCloseable {
    private final ClipGradNorm kernel;

    /** @param manager a long-lived manager on the gradients' device (the clipping kernel is loaded there) */
    public GradClip(NDManager manager) {
        kernel = new ClipGradNorm(manager);
    }

    /**
     * Computes the L2 norm over all gradients together (in fp32, one libtorch call, one host copy) and,
     * when it exceeds {@code maxNorm}, scales every gradient in place by maxNorm / (norm + 1e-6).
     *
     * <p>A non-finite norm (inf/NaN gradients, e.g. an fp16 overflow) is returned as is and the
     * gradients are left untouched: the caller must skip the optimizer step.
     *
     * @param grads gradients (views: clipping changes them), e.g. {@link Gradients#of(java.util.Map)}
     * @param maxNorm clipping threshold; {@code Double.POSITIVE_INFINITY} only measures
     * @return the pre-clip global norm
     */
    public float globalNorm(List<NDArray> grads, double maxNorm) {
        if (!(maxNorm > 0)) {
            throw new IllegalArgumentException("--max-grad-norm: expected a positive number, got " + maxNorm);
        }
        if (grads.isEmpty()) {
            return 0f;
        }
        return kernel.clip(grads, maxNorm);
    }

    @Override
    public void close() {
        kernel.close();
    }
}
