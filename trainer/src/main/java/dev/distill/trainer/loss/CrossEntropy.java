package dev.distill.trainer.loss;

import ai.djl.ndarray.NDArray;

/** Hard-label cross-entropy on the tokens the teacher sampled (SeqKD), at temperature 1. */
public final class CrossEntropy {
    private CrossEntropy() {}

    /**
     * Per-position -log softmax(z)[target] * weight; reduce with {@link Reduction#perToken}.
     *
     * @param studentLogits [N, V] float32 (half precision is promoted)
     * @param targetIds the sampled completion tokens [N], int64 or int32
     * @param weights [N]: 1 for real positions, 0 for padding
     * @return [N] float32
     */
    public static NDArray perPosition(NDArray studentLogits, NDArray targetIds, NDArray weights) {
        NDArray logits = LossInputs.studentLogits(studentLogits); // [N, V]
        long rows = logits.getShape().get(0);
        NDArray targets = LossInputs.targets(targetIds, "completion_ids", rows).expandDims(1); // [N, 1]
        NDArray w = LossInputs.weights(weights, rows); // [N]
        return logits.logSoftmax(1).gather(targets, 1).squeeze(1).neg().mul(w); // [N]
    }
}
