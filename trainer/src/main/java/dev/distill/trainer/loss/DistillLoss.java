package dev.distill.trainer.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
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
        NDArray padBias = padBias(padding, ids.getShape()); // [N, k] or null
        return weighted(tail.support(logits, ids, teacher, padBias), w); // [N]
    }

    /**
     * Whether {@link #perPositionAtIds} computes this loss: with {@code --tail zero} the student's logits are read
     * at the teacher's ids only, so the model can compute just those (no [N, V] LM head product).
     */
    public boolean readsOnlyLabelIds() {
        return tail == TailMode.ZERO;
    }

    /**
     * As {@link #perPosition(NDArray, NDArray, NDArray, NDArray, NDArray)} with {@code --tail zero}, on the student's
     * logits already taken at the teacher's ids: {@code studentAtIds} [N, k] = studentLogits.gather(topkIds, 1).
     *
     * @throws IllegalStateException when the tail mode reads more than the ids ({@link #readsOnlyLabelIds} false)
     */
    public NDArray perPositionAtIds(NDArray studentAtIds, NDArray topkLogprobs, NDArray padding, NDArray weights) {
        if (!readsOnlyLabelIds()) {
            throw new IllegalStateException("--tail " + tail.cliName() + " reads the student's whole vocabulary");
        }
        NDArray student = LossInputs.studentLogits(studentAtIds); // [N, k]
        NDArray teacher = LossInputs.teacherLogprobs(topkLogprobs, student.getShape()) // [N, k]
                .clip(LOGPROB_FLOOR, 0f);
        NDArray w = LossInputs.weights(weights, student.getShape().get(0)); // [N]
        NDArray padBias = padBias(padding, student.getShape()); // [N, k] or null
        return weighted(TailMode.zeroSupport(student, teacher, padBias), w); // [N]
    }

    /** LOGPROB_FLOOR in the padding slots ({@code padding} [N, k] 1 there, else 0), 0 elsewhere; null without padding */
    private static NDArray padBias(NDArray padding, Shape idsShape) {
        return padding == null
                ? null
                : LossInputs.teacherLogprobs(padding, idsShape).mul(LOGPROB_FLOOR);
    }

    /** T^2 * D(teacher_T, student_T) * weight over a support [N, S] -> [N] */
    private NDArray weighted(SupportLogits support, NDArray w) {
        SupportLogits tempered = support.temper(temperature); // [N, S] each
        float hinton = (float) (temperature * temperature);
        return divergence
                .rows(tempered.teacher(), tempered.student())
                .mul(Ops.scalar(tempered.student(), hinton))
                .mul(w); // [N]
    }
}
