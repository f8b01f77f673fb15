package dev.distill.trainer.loss;

import ai.djl.ndarray.NDArray;

/**
 * The knowledge-distillation term for sampled labels ({@code --logits sample:N[:T]}), the estimator of Sparse Logit
 * Sampling (Anshumann et al. 2025): per position {@code sum_i w_i (lp_i - log q_i)} over the stored ids, where
 * {@code w} are the target weights ({@code count / N} at T = 1, self-normalised {@code count * p / q_proposal}
 * otherwise), {@code lp} the teacher's log-probabilities and {@code log q} the student's <b>full-vocabulary</b>
 * log-softmax at the ids. At T = 1 its expectation over the draws is KL(teacher || student) and its gradient's
 * expectation the full-distribution forward-KL gradient {@code q - p}. Forward KL at KD temperature 1 only.
 */
public final class SampledKl {
    private SampledKl() {}

    /**
     * @param studentLogits [N, V]
     * @param ids [N, W] stored ids (padding slots repeat an id)
     * @param teacherLogprobs [N, W] teacher log-probs at T = 1 (-inf in padding slots)
     * @param targetWeights [N, W] target weights, 0 in padding slots
     * @param weights [N] position weights
     * @return [N] float32
     */
    public static NDArray perPosition(
            NDArray studentLogits, NDArray ids, NDArray teacherLogprobs, NDArray targetWeights, NDArray weights) {
        NDArray logits = LossInputs.studentLogits(studentLogits); // [N, V]
        long rows = logits.getShape().get(0);
        NDArray index = LossInputs.ids(ids, "label_ids", rows, logits.getShape().get(1)); // [N, W]
        NDArray teacher =
                LossInputs.teacherLogprobs(teacherLogprobs, index.getShape()).clip(DistillLoss.LOGPROB_FLOOR, 0f);
        NDArray target = LossInputs.teacherLogprobs(targetWeights, index.getShape()); // [N, W]
        NDArray w = LossInputs.weights(weights, rows); // [N]
        NDArray studentLogp = logits.logSoftmax(1).gather(index, 1); // [N, W]
        return target.mul(teacher.sub(studentLogp)).sum(new int[] {1}).mul(w); // [N]
    }
}
