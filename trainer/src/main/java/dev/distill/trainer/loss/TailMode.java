package dev.distill.trainer.loss;

import ai.djl.ndarray.NDArray;
import dev.distill.model.Ops;
import java.util.Locale;

/**
 * How the teacher's stored top-k log-probs become a distribution to match ({@code --tail}): renormalise
 * both sides over the k ids, or keep a (k+1)-th bucket holding all mass outside them.
 */
public enum TailMode {
    /**
     * Both sides renormalised over the k stored ids: teacher log_softmax(lp_k), student
     * log_softmax(z_k). Mass outside the top k is ignored on both sides.
     */
    ZERO("zero") {
        @Override
        SupportLogits support(NDArray logits, NDArray ids, NDArray teacherLogprobs, NDArray padBias) {
            return zeroSupport(logits.gather(ids, 1), teacherLogprobs, padBias); // [N, k] each
        }
    },

    /**
     * The true full-vocabulary student log-probs at the k ids plus a tail bucket on both sides:
     * teacher log(clamp(1 - sum exp(lp_k), 1e-6, 1)), student log of its exact mass outside the ids.
     * With k = V there is no tail and this is {@link #ZERO}.
     */
    BUCKET("bucket") {
        @Override
        SupportLogits support(NDArray logits, NDArray ids, NDArray teacherLogprobs, NDArray padBias) {
            if (ids.getShape().get(1) == logits.getShape().get(1) && padBias == null) {
                return ZERO.support(logits, ids, teacherLogprobs, null);
            }
            // Teacher: what the stored row leaves over, floored where fp32 rounding makes it <= 0.
            NDArray teacherTail = teacherLogprobs
                    .exp()
                    .sum(new int[] {1}) // [N]
                    .neg()
                    .add(1f)
                    .clip(TEACHER_TAIL_FLOOR, 1f)
                    .log()
                    .expandDims(1); // [N, 1]
            // Student: exp(z - max) once; the tail sums it with the k ids zeroed out, so a student that
            // is nearly certain of its top k keeps an exact (tiny) tail instead of log(1 - 0.99999999).
            NDArray shift = logits.max(new int[] {1}, true).stopGradient(); // [N, 1]
            NDArray scaled = logits.sub(shift).exp(); // [N, V]
            NDArray logTotal = scaled.sum(new int[] {1}, true).log(); // [N, 1]
            NDArray topK = logits.gather(ids, 1).sub(shift).sub(logTotal); // [N, k] full-vocab log-probs
            if (padBias != null) {
                topK = topK.add(padBias); // padding slots repeat an id: no mass there (scattering it twice is harmless)
            }
            NDArray tailSum = scaled.scatter(ids, LossInputs.zeros(logits, ids.getShape()), 1) // [N, V]
                    .sum(new int[] {1}, true); // [N, 1]
            NDArray studentTail = tailSum.maximum(Ops.scalar(tailSum, STUDENT_TAIL_FLOOR))
                    .log()
                    .sub(logTotal); // [N, 1]
            return new SupportLogits(
                    teacherLogprobs.concat(teacherTail, 1), // [N, k + 1]
                    topK.concat(studentTail, 1)); // [N, k + 1]
        }
    };

    /** Smallest teacher tail mass: below it fp32 rounding of a sum of k probabilities is noise. */
    static final float TEACHER_TAIL_FLOOR = 1e-6f;
    /** Smallest student tail sum (relative to the row max) before the log, so it stays finite. */
    static final float STUDENT_TAIL_FLOOR = Float.MIN_NORMAL;

    private final String cliName;

    TailMode(String cliName) {
        this.cliName = cliName;
    }

    /** The {@code --tail} spelling. */
    public String cliName() {
        return cliName;
    }

    /** {@link #ZERO}'s support from the student's logits at the ids, {@code student} [N, k]. */
    static SupportLogits zeroSupport(NDArray student, NDArray teacherLogprobs, NDArray padBias) {
        return new SupportLogits(teacherLogprobs, padBias == null ? student : student.add(padBias)); // [N, k] each
    }

    /** Parses {@code --tail zero|bucket}. */
    public static TailMode parse(String name) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        for (TailMode m : values()) {
            if (m.cliName.equals(n)) {
                return m;
            }
        }
        throw new IllegalArgumentException("--tail: expected zero or bucket, got '" + name + "'");
    }

    /**
     * Teacher and student log-weights over the support, at temperature 1.
     *
     * @param logits student logits [N, V] float32
     * @param ids teacher top-k ids [N, k] int64
     * @param teacherLogprobs sanitised teacher log-probs at the ids [N, k] float32 (the floor in padding slots)
     * @param padBias [N, k] float32: {@link DistillLoss#LOGPROB_FLOOR} in padding slots of positions holding fewer
     *     than k entries, 0 elsewhere; null when there is none
     */
    abstract SupportLogits support(NDArray logits, NDArray ids, NDArray teacherLogprobs, NDArray padBias);
}
