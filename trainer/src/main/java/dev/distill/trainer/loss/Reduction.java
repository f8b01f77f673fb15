package dev.distill.trainer.loss;

import ai.djl.ndarray.NDArray;
import dev.distill.model.Ops;

/**
 * Per-token reduction: the sum of per-position losses divided by the number of real positions in the
 * whole optimizer step (all micro-batches), so accumulating gradients over micro-batches gives exactly
 * the gradient of one big batch.
 */
public final class Reduction {
    private Reduction() {}

    /**
     * sum(perPosition) / stepTokens, a scalar.
     *
     * @param perPosition [N] weighted per-position losses of one micro-batch
     * @param stepTokens real (weight-1) positions in the whole optimizer step, > 0
     */
    public static NDArray perToken(NDArray perPosition, double stepTokens) {
        if (!(stepTokens > 0) || Double.isInfinite(stepTokens)) {
            throw new IllegalArgumentException(
                    "step token count: expected a positive number of real positions, got " + stepTokens);
        }
        return perPosition.sum().div(Ops.scalar(perPosition, (float) stepTokens)); // []
    }
}
