package dev.distill.trainer.loss;

import ai.djl.ndarray.NDArray;

/**
 * A batch's cross-tokenizer alignment groups as tensors (see docs/losses.md, "Cross-tokenizer losses"). A group is a
 * run of student tokens and a run of teacher tokens covering the same bytes of the teacher's text; G groups, the
 * teacher's top-k at its first token, D the longest run of student tokens after the first.
 *
 * @param first [G] int64: the row (in the student's [Ns, V] logits) of each group's first student token
 * @param rest [G, D] int64: the rows of its further student tokens, padded with 0
 * @param restMask [G, D] float32: 1 for a real further token, 0 for padding
 * @param targets [Ns] int64: the student's token at every row of its logits
 * @param teacherLogprobs [G, k] float32: the teacher's top-k log-probabilities at the group's first token plus the
 *     log-probabilities of its further tokens (the merged, GOLD-style group probability), sorted descending
 * @param mappedIds [G, k] int64: the student id spelled like each top-k teacher id, 0 where none is
 * @param matched [G, k] float32: 1 where the teacher id has a student twin
 * @param twinPenalty [V] float32: -1e4 at student ids that have a teacher twin, 0 elsewhere (masks them out of the
 *     student's unmatched ranking)
 */
public record AlignedGroups(
        NDArray first,
        NDArray rest,
        NDArray restMask,
        NDArray targets,
        NDArray teacherLogprobs,
        NDArray mappedIds,
        NDArray matched,
        NDArray twinPenalty) {

    /** Groups in the batch. */
    public long count() {
        return first.getShape().get(0);
    }
}
