package dev.distill.trainer.loss;

import ai.djl.ndarray.NDArray;
import dev.distill.model.Ops;

/**
 * The training objective of one micro-batch: kdWeight * KD + ceWeight * CE, each reduced per token over
 * the optimizer step. ceWeight 1 with kdWeight 0 is plain SeqKD (no soft labels needed).
 */
public final class DistillObjective {
    private final DistillLoss kd;
    private final SampledReverseKl sampled;
    private final double kdWeight;
    private final double ceWeight;

    /**
     * @param kd the distillation term; may be null only when kdWeight is 0
     * @param kdWeight weight of the KD term, >= 0
     * @param ceWeight weight of the hard-label CE term ({@code --ce-weight}), >= 0
     */
    public DistillObjective(DistillLoss kd, double kdWeight, double ceWeight) {
        this(kd, null, kdWeight, ceWeight);
    }

    /** The objective whose KD term is the on-policy estimator on the sampled tokens ({@code --loss sampled-rkl}). */
    public static DistillObjective sampled(SampledReverseKl sampled, double kdWeight, double ceWeight) {
        return new DistillObjective(null, sampled, kdWeight, ceWeight);
    }

    private DistillObjective(DistillLoss kd, SampledReverseKl sampled, double kdWeight, double ceWeight) {
        if (!(kdWeight >= 0)
                || !(ceWeight >= 0)
                || kdWeight + ceWeight == 0
                || Double.isInfinite(kdWeight + ceWeight)) {
            throw new IllegalArgumentException("loss weights: expected finite kd weight >= 0 and --ce-weight >= 0,"
                    + " not both 0; got kd " + kdWeight + ", ce " + ceWeight);
        }
        if (kd == null && sampled == null && kdWeight > 0) {
            throw new IllegalArgumentException("loss weights: kd weight " + kdWeight + " needs a distillation loss");
        }
        this.kd = kd;
        this.sampled = sampled;
        this.kdWeight = kdWeight;
        this.ceWeight = ceWeight;
    }

    /**
     * Refuses, before training, a distillation loss that labels of kind {@code logits} cannot support: sampled labels
     * train forward KL at KD temperature 1 only (the estimator is unbiased for that loss alone). The on-policy
     * estimator ({@link #sampled}) reads the completion tokens' log-probs, which every kind stores.
     *
     * @throws IllegalArgumentException naming the loss and the labels
     */
    public void requireSupports(dev.distill.data.LogitsSpec logits) {
        if (kdWeight == 0 || kd == null || !logits.sampled()) {
            return;
        }
        if (!(kd.divergence() instanceof ForwardKl)) {
            throw new IllegalArgumentException(
                    "--loss " + kd.divergence().cliName() + " cannot train on --logits " + logits
                            + " labels: sampled labels give an unbiased estimate of forward KL only; use --loss forward-kl,"
                            + " or labels generated with --logits top-k:K or top-p:P");
        }
        if (kd.temperature() != 1.0) {
            throw new IllegalArgumentException(
                    "--kd-temperature " + kd.temperature() + " cannot be used with --logits " + logits
                            + " labels: the sampled estimator matches the teacher at temperature 1; use --kd-temperature 1");
        }
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
    public Terms compute(
            NDArray studentLogits,
            NDArray topkIds,
            NDArray topkLogprobs,
            NDArray targetIds,
            NDArray weights,
            double stepTokens) {
        return compute(studentLogits, topkIds, topkLogprobs, null, null, targetIds, null, weights, stepTokens);
    }

    /**
     * As {@link #compute(NDArray, NDArray, NDArray, NDArray, NDArray, double)}, with the teacher's log-prob of each
     * target token.
     *
     * @param targetLogprobs [N] teacher log-probs of {@code targetIds}; used (required) by the sampled-rkl term only
     */
    public Terms compute(
            NDArray studentLogits,
            NDArray topkIds,
            NDArray topkLogprobs,
            NDArray targetIds,
            NDArray targetLogprobs,
            NDArray weights,
            double stepTokens) {
        return compute(
                studentLogits, topkIds, topkLogprobs, null, null, targetIds, targetLogprobs, weights, stepTokens);
    }

    /**
     * As {@link #compute(NDArray, NDArray, NDArray, NDArray, NDArray, NDArray, double)} for labels of any kind.
     *
     * @param labelPadding [N, k] 1 in unused slots of positions with fewer entries (top-p), else 0; or null
     * @param sampleWeights [N, k] target weights of sampled labels ({@link SampledKl}); null for the top kinds
     */
    public Terms compute(
            NDArray studentLogits,
            NDArray topkIds,
            NDArray topkLogprobs,
            NDArray labelPadding,
            NDArray sampleWeights,
            NDArray targetIds,
            NDArray targetLogprobs,
            NDArray weights,
            double stepTokens) {
        NDArray kdTerm = kdWeight == 0
                ? null
                : sampled != null
                        ? Reduction.perToken(
                                sampled.perPosition(studentLogits, targetIds, targetLogprobs, weights), stepTokens)
                        : Reduction.perToken(
                                sampleWeights != null
                                        ? SampledKl.perPosition(
                                                studentLogits, topkIds, topkLogprobs, sampleWeights, weights)
                                        : kd.perPosition(studentLogits, topkIds, topkLogprobs, labelPadding, weights),
                                stepTokens);
        NDArray ceTerm = ceWeight == 0
                ? null
                : Reduction.perToken(CrossEntropy.perPosition(studentLogits, targetIds, weights), stepTokens);
        return combine(kdTerm, kdWeight, ceTerm, ceWeight);
    }

    /**
     * Whether {@link #computeAtIds} computes this objective: a KD term over the top-k ids with {@code --tail zero}
     * and no CE term read the student's logits at the teacher's ids only.
     */
    public boolean readsOnlyLabelIds() {
        return kdWeight > 0 && ceWeight == 0 && kd != null && kd.readsOnlyLabelIds();
    }

    /**
     * As {@link #compute(NDArray, NDArray, NDArray, NDArray, NDArray, NDArray, NDArray, NDArray, double)} for top-k
     * labels (no sample weights), on the student's logits already taken at the teacher's ids: {@code studentAtIds}
     * [N, k] = studentLogits.gather(topkIds, 1).
     *
     * @throws IllegalStateException when the objective reads more ({@link #readsOnlyLabelIds} false)
     */
    public Terms computeAtIds(
            NDArray studentAtIds, NDArray topkLogprobs, NDArray labelPadding, NDArray weights, double stepTokens) {
        if (!readsOnlyLabelIds()) {
            throw new IllegalStateException("this objective reads the student's whole vocabulary");
        }
        NDArray kdTerm =
                Reduction.perToken(kd.perPositionAtIds(studentAtIds, topkLogprobs, labelPadding, weights), stepTokens);
        return combine(kdTerm, kdWeight, null, ceWeight);
    }

    /** kdWeight * kd + ceWeight * ce, either term null when its weight is 0 (not both). */
    public static Terms combine(NDArray kdTerm, double kdWeight, NDArray ceTerm, double ceWeight) {
        NDArray total;
        if (kdTerm == null) {
            total = ceTerm.mul(Ops.scalar(ceTerm, (float) ceWeight));
        } else if (ceTerm == null) {
            total = kdTerm.mul(Ops.scalar(kdTerm, (float) kdWeight));
        } else {
            total = kdTerm.mul(Ops.scalar(kdTerm, (float) kdWeight))
                    .add(ceTerm.mul(Ops.scalar(ceTerm, (float) ceWeight)));
        }
        return new Terms(total, kdTerm, ceTerm);
    }
}
