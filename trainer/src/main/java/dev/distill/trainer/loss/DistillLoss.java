package dev.distill.trainer.loss;

import ai.djl.ndarray.NDArray;
import dev.distill.model.Ops;

/**
 * The knowledge-distillation term: a {@link Divergence} between the teacher's stored top-k soft labels
 * and the student's logits, completed by a {@link TailMode}, at KD temperature T (scaled by T^2).
 * Pure NDArray ops: differentiable w.r.t. the student logits, no host copies, any device.
 */
public final class DistillLoss {
    /** Teacher log-probs are clamped to [LOGPROB_FLOOR, 0]: -inf (tokens it never emits) stays finite. */
    public static final float LOGPROB_FLOOR = -1e4f;

    private final Divergence divergence;
    private final TailMode tail;
    private final double temperature;

    public DistillLoss(Divergence divergence, TailMode tail, double temperature) {
        if (!(temperature > 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("--kd-temperature: expected a positive number, got " + temperature);
        }
        this.divergence = divergence;
        this.tail = tail;
        this.temperature = temperature;
    }

    /** From CLI spellings: {@code --loss}, {@code --tail}, {@code --kd-temperature}, {@code --beta}. */
    public static DistillLoss of(String loss, String tail, double temperature, double beta) {
        return new DistillLoss(Divergence.named(loss, beta), TailMode.parse(tail), temperature);
    }

    public Divergence divergence() {
        return divergence;
    }

    public TailMode tail() {
        return tail;
    }

    public double temperature() {
        return temperature;
    }

    /**
     * Per-position loss T^2 * D(teacher_T, student_T) * weight; sum it over positions and divide by
     * the optimizer step's token count with {@link Reduction#perToken}.
     *
     * @param studentLogits [N, V] float32 (half precision is promoted), N completion positions
     * @param topkIds teacher top-k ids [N, k], int64 or int32, values in [0, V)
     * @param topkLogprobs teacher log-softmax over the full vocabulary at T=1, at the ids [N, k]
     * @param weights [N]: 1 for real positions, 0 for padding
     * @return [N] float32
     */
    public NDArray perPosition(NDArray studentLogits, NDArray topkIds, NDArray topkLogprobs, NDArray weights) {
        return perPosition(studentLogits, topkIds, topkLogprobs, null, weights);
    }

    /**
     * As {@link #perPosition(NDArray, NDArray, NDArray, NDArray)}, for positions holding different numbers of entries
     * (top-p): {@code padding} [N, k] is 1 in the slots a position does not use (their ids repeat one of its ids),
     * 0 elsewhere, or null; padding slots carry no mass on either side.
     */
    public NDArray perPosition(
            NDArray studentLogits, NDArray topkIds, NDArray topkLogprobs, NDArray padding, NDArray weights) {
        NDArray logits = LossInputs.studentLogits(studentLogits); // [N, V]
        long rows = logits.getShape().get(0);
        NDArray ids =
                LossInputs.ids(topkIds, "topk_ids", rows, logits.getShape().get(1)); // [N, k]
        NDArray teacher = LossInputs.teacherLogprobs(topkLogprobs, ids.getShape()) // [N, k]
                .clip(LOGPROB_FLOOR, 0f);
        NDArray w = LossInputs.weights(weights, rows); // [N]
        NDArray padBias = padding == null
                ? null
                : LossInputs.teacherLogprobs(padding, ids.getShape()).mul(LOGPROB_FLOOR); // [N, k]
        SupportLogits tempered = tail.support(logits, ids, teacher, padBias).temper(temperature); // [N, S] each
        float hinton = (float) (temperature * temperature);
        return divergence
                .rows(tempered.teacher(), tempered.student())
                .mul(Ops.scalar(logits, hinton))
                .mul(w); // [N]
    }
}
