package dev.distill.trainer.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import dev.distill.model.Ops;
import java.util.Locale;

/**
 * Distillation between a teacher and a student whose vocabularies differ, on byte-aligned groups
 * ({@link AlignedGroups}): ULD (Boizard et al. 2024, an L1 distance between the two distributions sorted by
 * probability, which needs no correspondence between ids) and GOLD (TRL's hybrid: a direct KL on the ids spelled the
 * same in both vocabularies, ULD on the rest). Both sides are the merged group probabilities: the distribution at the
 * group's first token times the probability of the rest of the group's actual tokens, as TRL GOLD merges them. The
 * teacher has only its top k: ULD compares the k largest values plus one bucket holding the remaining mass; the GOLD
 * KL runs over the matched ids plus one bucket for everything else. Formulas: docs/losses.md.
 */
public final class CrossTokenizerLoss {
    /** Floor of the bucket masses (as the same-tokenizer teacher tail's). */
    private static final float MASS_FLOOR = 1e-6f;

    /** {@code --loss uld} or {@code --loss gold}. */
    public enum Kind {
        ULD,
        GOLD;

        /** The CLI spelling, or null when {@code loss} names no cross-tokenizer loss. */
        public static Kind parse(String loss) {
            return switch (loss == null ? "" : loss.toLowerCase(Locale.ROOT)) {
                case "uld" -> ULD;
                case "gold" -> GOLD;
                default -> null;
            };
        }
    }

    private final Kind kind;
    private final float matchedWeight;

    /**
     * @param matchedWeight GOLD's weight of the KL on matched ids; the unmatched ULD gets 1 - matchedWeight (TRL's
     *     default: the share of the teacher's vocabulary that has a twin in the student's)
     */
    public CrossTokenizerLoss(Kind kind, double matchedWeight) {
        if (!(matchedWeight >= 0 && matchedWeight <= 1)) {
            throw new IllegalArgumentException("matched weight must be in [0, 1], got " + matchedWeight);
        }
        this.kind = kind;
        this.matchedWeight = (float) matchedWeight;
    }

    public Kind kind() {
        return kind;
    }

    /**
     * The loss of every group.
     *
     * @param studentLogits [Ns, V] at every student completion position
     * @return [G] float32
     */
    public NDArray perGroup(NDArray studentLogits, AlignedGroups g) {
        NDArray merged = mergedStudent(studentLogits, g); // [G, V]
        if (kind == Kind.ULD) {
            return uld(merged, g.teacherLogprobs());
        }
        NDArray kl = matchedKl(merged, g); // [G]
        NDArray unmatched = unmatchedUld(merged, g); // [G]
        return kl.mul(Ops.scalar(kl, matchedWeight)).add(unmatched.mul(Ops.scalar(kl, 1f - matchedWeight)));
    }

    /**
     * The student's merged group log-probabilities: log_softmax at the group's first token plus the log-probabilities
     * of the group's further actual tokens.
     *
     * @return [G, V] float32
     */
    public static NDArray mergedStudent(NDArray studentLogits, AlignedGroups g) {
        NDArray logq = LossInputs.studentLogits(studentLogits).logSoftmax(1); // [Ns, V]
        NDArray atFirst = logq.get("{}", g.first()); // [G, V]
        long d = g.rest().getShape().get(1);
        if (d == 0) {
            return atFirst;
        }
        NDArray everyActual = logq.gather(g.targets().reshape(-1, 1), 1).reshape(-1); // [Ns]
        NDArray actual = everyActual.take(g.rest()); // [G, D]
        NDArray suffix = actual.mul(g.restMask()).sum(new int[] {1}, true); // [G, 1]
        return atFirst.add(suffix); // [G, V]
    }

    /**
     * ULD over the top k plus a bucket: sum_i |p_(i) - q_(i)| + |p_rest - q_rest|, with p_(i), q_(i) each side's k
     * largest merged probabilities in descending order and the rests 1 minus their sums.
     *
     * @param merged [G, V] student merged log-probabilities
     * @param teacherLogprobs [G, k] teacher merged log-probabilities, descending
     * @return [G]
     */
    public static NDArray uld(NDArray merged, NDArray teacherLogprobs) {
        int k = (int) teacherLogprobs.getShape().get(1);
        NDArray p = teacherLogprobs.clip(DistillLoss.LOGPROB_FLOOR, 0f).exp(); // [G, k]
        NDArray q = topK(merged, k).exp(); // [G, k]
        NDArray pRest = p.sum(new int[] {1}).neg().add(1f).clip(0f, 1f); // [G]
        NDArray qRest = q.sum(new int[] {1}).neg().add(1f).clip(0f, 1f); // [G]
        return p.sub(q).abs().sum(new int[] {1}).add(pRest.sub(qRest).abs()); // [G]
    }

    /**
     * KL(P || Q) over the matched ids plus one bucket holding all other outcomes:
     * sum_{i matched} p_i (log p_i - log q_{twin(i)}) + p_r log(p_r / q_r), p_r = 1 - sum p_i, q_r = 1 - sum q_twin(i).
     *
     * @return [G]
     */
    public static NDArray matchedKl(NDArray merged, AlignedGroups g) {
        NDArray lp = g.teacherLogprobs().clip(DistillLoss.LOGPROB_FLOOR, 0f); // [G, k]
        NDArray m = g.matched(); // [G, k]
        NDArray lq = merged.gather(g.mappedIds(), 1); // [G, k]
        NDArray p = lp.exp().mul(m); // [G, k]
        NDArray q = lq.exp().mul(m); // [G, k]
        NDArray direct = p.mul(lp.sub(lq)).sum(new int[] {1}); // [G]
        NDArray pRest = p.sum(new int[] {1}).neg().add(1f).clip(MASS_FLOOR, 1f); // [G]
        NDArray qRest = q.sum(new int[] {1}).neg().add(1f).clip(MASS_FLOOR, 1f); // [G]
        return direct.add(pRest.mul(pRest.log().sub(qRest.log()))); // [G]
    }

    /**
     * ULD restricted to ids without a twin: the teacher's unmatched top-k probabilities sorted descending against the
     * student's k largest merged probabilities among its ids without a twin, sum_i |p_(i) - q_(i)|.
     *
     * @return [G]
     */
    public static NDArray unmatchedUld(NDArray merged, AlignedGroups g) {
        int k = (int) g.teacherLogprobs().getShape().get(1);
        NDArray p = g.teacherLogprobs()
                .clip(DistillLoss.LOGPROB_FLOOR, 0f)
                .exp()
                .mul(g.matched().neg().add(1f)); // [G, k], matched ids zeroed
        NDArray pSorted = p.neg().sort(1).neg(); // [G, k] descending
        NDArray q = topK(merged.add(g.twinPenalty()), k).exp(); // [G, k]
        return pSorted.sub(q).abs().sum(new int[] {1}); // [G]
    }

    /** The k largest values of each row, descending, gathered so that gradients flow to them. */
    private static NDArray topK(NDArray rows, int k) {
        NDList top = rows.topK(k, 1, true, true);
        try {
            return rows.gather(top.get(1), 1); // [G, k]
        } finally {
            top.get(0).close();
        }
    }
}
