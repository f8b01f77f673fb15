package dev.distill.trainer.loss;

import ai.djl.ndarray.NDArray;

/**
 * The training objective of one micro-batch: kdWeight * KD + ceWeight * CE, each reduced per token over
 * the optimizer step. ceWeight 1 with kdWeight 0 is plain SeqKD (no soft labels needed).
 */
public final class DistillObjective {
    private final DistillLoss kd;
    private final double kdWeight;
    private final double ceWeight;

    /**
     * @param kd the distillation term; may be null only when kdWeight is 0
     * @param kdWeight weight of the KD term, >= 0
     * @param ceWeight weight of the hard-label CE term ({@code --ce-weight}), >= 0
     */
    public DistillObjective(DistillLoss kd, double kdWeight, double ceWeight) {
        if (!(kdWeight >= 0) || !(ceWeight >= 0) || kdWeight + ceWeight == 0 || Double.isInfinite(kdWeight + ceWeight)) {
            throw new IllegalArgumentException("loss weights: expected finite kd weight >= 0 and --ce-weight >= 0,"
                    + " not both 0; got kd " + kdWeight + ", ce " + ceWeight);
        }
        if (kd == null && kdWeight > 0) {
            throw new IllegalArgumentException("loss weights: kd weight " + kdWeight + " needs a distillation loss");
        }
        this.kd = kd;
        this.kdWeight = kdWeight;
        this.ceWeight = ceWeight;
    }

    /** Scalars of one micro-batch; {@code kd}/{@code ce} are null when their weight is 0. */
    public record Terms(NDArray total, NDArray kd, NDArray ce) {}

    /**
     * Computes the weighted, per-token-reduced loss of one micro-batch.
     *
     * @param studentLogits [N, V]
     * @param topkIds [N, k]; unused (may be null) when the KD weight is 0
     * @param topkLogprobs [N, k]; unused (may be null) when the KD weight is 0
     * @param targetIds [N] sampled tokens; unused (may be null) when the CE weight is 0
     * @param weights [N] position weights
     * @param stepTokens real positions in the whole optimizer step
     */
    public Terms compute(NDArray studentLogits, NDArray topkIds, NDArray topkLogprobs, NDArray targetIds,
            NDArray weights, double stepTokens) {
        NDArray kdTerm = kdWeight == 0 ? null
                : Reduction.perToken(kd.perPosition(studentLogits, topkIds, topkLogprobs, weights), stepTokens);
        NDArray ceTerm = ceWeight == 0 ? null
                : Reduction.perToken(CrossEntropy.perPosition(studentLogits, targetIds, weights), stepTokens);
        return combine(kdTerm, kdWeight, ceTerm, ceWeight);
    }

    /** kdWeight * kd + ceWeight * ce, either term null when its weight is 0 (not both). */
    public static Terms combine(NDArray kdTerm, double kdWeight, NDArray ceTerm, double ceWeight) {
        NDArray total;
        if (kdTerm == null) {
            total = ceTerm.mul((float) ceWeight);
        } else if (ceTerm == null) {
            total = kdTerm.mul((float) kdWeight);
        } else {
            total = kdTerm.mul((float) kdWeight).add(ceTerm.mul((float) ceWeight));
        }
        return new Terms(total, kdTerm, ceTerm);
    }
}
