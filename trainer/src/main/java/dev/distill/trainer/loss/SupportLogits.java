package dev.distill.trainer.loss;

import ai.djl.ndarray.NDArray;
import dev.distill.model.Ops;

/**
 * Teacher and student log-weights over the same support of S outcomes (S = k, or k + 1 with a tail
 * bucket), at temperature 1, not necessarily normalised: [N, S] each.
 */
record SupportLogits(NDArray teacher, NDArray student) {

    /** Applies the KD temperature to both sides and renormalises: log_softmax(w / T) over the support. */
    SupportLogits temper(double temperature) {
        return new SupportLogits(
                teacher.div(Ops.scalar(teacher, (float) temperature)).logSoftmax(1), // [N, S]
                student.div(Ops.scalar(student, (float) temperature)).logSoftmax(1)); // [N, S]
    }
}
