package dev.distill.trainer.loss;

import ai.djl.ndarray.NDArray;

/**
 * On-policy distillation's per-token reverse-KL estimator on the student's own sampled tokens (GKD with lambda = 1,
 * MiniLLM's single-step term, the 2025 "on-policy distillation" recipe). At a completion position with sampled token
 * x, teacher log-prob lp = log p_T(x) (stored in {@code completion_logprobs} by a scoring run) and student log-prob
 * log q(x) recomputed under the current weights:
 *
 * <pre>
 *   d        = log q(x) - lp                       (the k1 estimate of KL(q || p_T) at this position; -d is the advantage)
 *   surrogate = sg(d) * log q(x) - sg(d * log q(x)) + sg(d)
 *   value     = d                                   gradient = d * grad log q(x)
 * </pre>
 *
 * sg is stop-gradient. Minimising the surrogate is a REINFORCE step on the per-token reward lp - log q(x) with no
 * credit to later tokens (discount 0), whose expectation under the sampling student is the gradient of the reverse KL
 * at each position. The reported value is the estimate itself. The temperature is 1; no importance correction is
 * applied for steps taken after the samples were drawn.
 */
public final class SampledReverseKl {
    /** The {@code --loss} spelling. */
    public static final String NAME = "sampled-rkl";

    /**
     * Per-position surrogate (value d, gradient d * grad log q(x)) times the weight; reduce with {@link Reduction#perToken}.
     *
     * @param studentLogits [N, V] float32 (half precision is promoted)
     * @param sampledIds the sampled completion tokens x [N], int64 or int32
     * @param teacherLogprobs log p_T(x) [N] at temperature 1 (clamped to [-1e4, 0])
     * @param weights [N]: 1 for real positions, 0 for padding
     * @return [N] float32
     */
    public NDArray perPosition(NDArray studentLogits, NDArray sampledIds, NDArray teacherLogprobs, NDArray weights) {
        NDArray logits = LossInputs.studentLogits(studentLogits); // [N, V]
        long rows = logits.getShape().get(0);
        NDArray x = LossInputs.targets(sampledIds, "completion_ids", rows).expandDims(1); // [N, 1]
        NDArray lp = LossInputs.weights(teacherLogprobs, rows).clip(DistillLoss.LOGPROB_FLOOR, 0f); // [N]
        NDArray w = LossInputs.weights(weights, rows); // [N]
        NDArray logq = logits.logSoftmax(1).gather(x, 1).squeeze(1); // [N] differentiable
        NDArray d = logq.sub(lp).stopGradient(); // [N] constant
        NDArray surrogate = d.mul(logq).sub(d.mul(logq).stopGradient()).add(d); // [N] value d, gradient d * dlogq
        return surrogate.mul(w); // [N]
    }
}
