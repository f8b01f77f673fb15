package dev.distill.trainer.crosstok;

import ai.djl.ndarray.NDArray;
import dev.distill.model.Ops;
import dev.distill.trainer.loss.CrossEntropy;
import dev.distill.trainer.loss.CrossTokenizerLoss;
import dev.distill.trainer.loss.DistillObjective;
import dev.distill.trainer.loss.Reduction;

/**
 * The cross-tokenizer training objective of one micro-batch: kdWeight * (ULD or GOLD, averaged over the step's
 * alignment groups) + ceWeight * (cross-entropy of the teacher's text under the student's tokenizer, averaged over the
 * step's student completion tokens). Each term is its share of the step's mean, so accumulation over micro-batches
 * equals one big batch.
 */
public final class CrossTokObjective {
    private final CrossTokenizerLoss kd;
    private final double kdWeight;
    private final double ceWeight;

    public CrossTokObjective(CrossTokenizerLoss kd, double kdWeight, double ceWeight) {
        this.kd = kd;
        this.kdWeight = kdWeight;
        this.ceWeight = ceWeight;
    }

    /**
     * @param logits [Ns, V] the student's logits at its completion positions
     * @param stepGroups alignment groups in the whole optimizer step (the KD normaliser)
     * @param stepTokens student completion tokens in the whole optimizer step (the CE normaliser)
     */
    public DistillObjective.Terms compute(NDArray logits, AlignedBatch.Tensors t, long stepGroups, long stepTokens) {
        NDArray kdTerm = null;
        if (kdWeight > 0) {
            kdTerm = t.groups().count() == 0 || stepGroups == 0
                    ? logits.sum().mul(Ops.scalar(logits, 0f))
                    : Reduction.perToken(kd.perGroup(logits, t.groups()), stepGroups);
        }
        NDArray ceTerm = ceWeight == 0
                ? null
                : Reduction.perToken(
                        CrossEntropy.perPosition(
                                logits, t.student().targets(), t.student().weights()),
                        stepTokens);
        return DistillObjective.combine(kdTerm, kdWeight, ceTerm, ceWeight);
    }
}
