package dev.distill.trainer.online;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.distill.model.LayerTaps;
import dev.distill.model.Ops;
import dev.distill.trainer.loss.AttentionLoss;
import dev.distill.trainer.loss.FeatureLoss;
import dev.distill.trainer.loss.LossInputs;
import dev.distill.trainer.loss.Reduction;
import dev.distill.trainer.loss.ValueRelationLoss;

/**
 * The terms that need the teacher's internals: feature distillation (hidden states of the mapped layers
 * through the learned projections, {@code --feature-loss}) and attention distillation (attention
 * distributions of the mapped layers, {@code --attention-loss kl}) and value relations (MiniLM/MiniLMv2,
 * {@code --value-relation-weight}, on the attention layer pairs). Each is averaged over its layer pairs,
 * summed over the real input tokens (prompt and completion) and divided by the real input tokens of the
 * whole optimizer step, so gradient accumulation stays exact.
 */
public final class InternalDistillation {
    private final FeatureLoss featureLoss;
    private final double featureWeight;
    private final LayerMap featureMap;
    private final FeatureProjections projections;
    private final double attentionWeight;
    private final LayerMap attentionMap;
    private final double valueWeight;
    private final LayerMap valueMap;
    private final int relationHeads;
    private final int studentLayers;
    private final int teacherLayers;

    /**
     * @param featureLoss null for no feature term
     * @param attentionMap null for no attention term
     * @param valueMap null for no value-relation term
     * @param relationHeads the value relations' R
     */
    public InternalDistillation(
            FeatureLoss featureLoss,
            double featureWeight,
            LayerMap featureMap,
            FeatureProjections projections,
            double attentionWeight,
            LayerMap attentionMap,
            double valueWeight,
            LayerMap valueMap,
            int relationHeads,
            int studentLayers,
            int teacherLayers) {
        this.valueWeight = valueWeight;
        this.valueMap = valueMap;
        this.relationHeads = relationHeads;
        this.featureLoss = featureLoss;
        this.featureWeight = featureWeight;
        this.featureMap = featureMap;
        this.projections = projections;
        this.attentionWeight = attentionWeight;
        this.attentionMap = attentionMap;
        this.studentLayers = studentLayers;
        this.teacherLayers = teacherLayers;
    }

    /** What the student's forward must record. */
    public LayerTaps studentTaps() {
        return new LayerTaps(
                studentLayers,
                featureLoss == null ? new int[0] : featureMap.studentLayers(),
                attentionMap == null ? new int[0] : attentionMap.studentLayers(),
                valueMap == null ? new int[0] : valueMap.studentLayers());
    }

    /** What the teacher's forward must record. */
    public LayerTaps teacherTaps() {
        return new LayerTaps(
                teacherLayers,
                featureLoss == null ? new int[0] : featureMap.teacherLayers(),
                attentionMap == null ? new int[0] : attentionMap.teacherLayers(),
                valueMap == null ? new int[0] : valueMap.teacherLayers());
    }

    /** The unweighted terms of one micro-batch (null when off) and their weighted sum. */
    public record Terms(NDArray feature, NDArray attention, NDArray valueRelation, NDArray weighted) {}

    /**
     * @param attentionMask the batch's [B, L] mask (nonzero for real tokens)
     * @param stepInputTokens real input tokens in the whole optimizer step
     */
    public Terms compute(LayerTaps student, LayerTaps teacher, NDArray attentionMask, double stepInputTokens) {
        NDArray mask = attentionMask.toType(DataType.FLOAT32, false); // [B, L]
        NDArray feature = null;
        NDArray attention = null;
        NDArray weighted = null;
        if (featureLoss != null) {
            NDArray sum = null;
            for (LayerMap.Pair p : featureMap.pairs()) {
                NDArray hs = LossInputs.float32Differentiable(student.hidden(p.student())); // [B, L, Hs]
                NDArray projected = hs.matMul(projections.of(p.student()).transpose()); // [B, L, Ht]
                NDArray term = featureLoss.sum(projected, teacher.hidden(p.teacher()), mask);
                sum = sum == null ? term : sum.add(term);
            }
            feature = Reduction.perToken(
                    sum.div(Ops.scalar(sum, (float) featureMap.pairs().size())), stepInputTokens);
            weighted = feature.mul(Ops.scalar(feature, (float) featureWeight));
        }
        if (attentionMap != null) {
            NDArray sum = null;
            for (LayerMap.Pair p : attentionMap.pairs()) {
                NDArray term = AttentionLoss.sum(teacher.attention(p.teacher()), student.attention(p.student()), mask);
                sum = sum == null ? term : sum.add(term);
            }
            attention = Reduction.perToken(
                    sum.div(Ops.scalar(sum, (float) attentionMap.pairs().size())), stepInputTokens);
            NDArray w = attention.mul(Ops.scalar(attention, (float) attentionWeight));
            weighted = weighted == null ? w : weighted.add(w);
        }
        NDArray valueRelation = null;
        if (valueMap != null) {
            NDArray sum = null;
            for (LayerMap.Pair p : valueMap.pairs()) {
                NDArray term = ValueRelationLoss.sum(
                        teacher.values(p.teacher()), student.values(p.student()), attentionMask, mask, relationHeads);
                sum = sum == null ? term : sum.add(term);
            }
            valueRelation = Reduction.perToken(
                    sum.div(Ops.scalar(sum, (float) valueMap.pairs().size())), stepInputTokens);
            NDArray w = valueRelation.mul(Ops.scalar(valueRelation, (float) valueWeight));
            weighted = weighted == null ? w : weighted.add(w);
        }
        return new Terms(feature, attention, valueRelation, weighted);
    }
}
