package dev.distill.trainer;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill.trainer.loss.FeatureLoss;
import dev.distill.trainer.online.LayerMap;
import dev.distill.trainer.online.OnlineTeacher;
import java.nio.file.Path;
import java.util.Objects;

/**
 * The online-teacher settings of {@code distill train --teacher DIR}: the teacher's dtype, the form of its
 * soft targets, and the feature and attention terms that use its internals.
 *
 * @param teacher the teacher model directory
 * @param dtype {@code --teacher-dtype} auto|fp32|fp16
 * @param topK {@code --teacher-top-k}: 0 for the full vocabulary
 * @param featureLoss {@code --feature-loss} mse|cosine, or null for none
 * @param featureWeight {@code --feature-weight}
 * @param layerMap {@code --layer-map} auto|"s:t,..."
 * @param attentionLoss {@code --attention-loss} kl, or null for none
 * @param attentionWeight {@code --attention-weight}
 * @param attentionLayers {@code --attention-layers} last|auto|"s:t,...": also the value-relation pairs
 * @param valueRelationWeight {@code --value-relation-weight}: 0 for no value-relation term
 * @param relationHeads {@code --relation-heads}: 0 for the student's KV head count
 */
public record TeacherOptions(
        Path teacher,
        String dtype,
        int topK,
        String featureLoss,
        double featureWeight,
        String layerMap,
        String attentionLoss,
        double attentionWeight,
        String attentionLayers,
        double valueRelationWeight,
        int relationHeads) {

    public TeacherOptions {
        Objects.requireNonNull(teacher, "--teacher");
    }

    /** Checks every value; the message names the option. */
    void validate() {
        OnlineTeacher.dataType(dtype, ai.djl.Device.cpu());
        if (topK < 0) {
            throw new IllegalArgumentException(
                    "--teacher-top-k: expected 0 (the full vocabulary) or a positive number, got " + topK);
        }
        if (featureLoss != null) {
            FeatureLoss.parse(featureLoss);
            weight(featureWeight, "--feature-weight");
            LayerMap.checkSyntax(layerMap, "--layer-map");
        }
        if (attentionLoss != null) {
            if (!attentionLoss.trim().equalsIgnoreCase("kl")) {
                throw new IllegalArgumentException("--attention-loss: expected kl, got '" + attentionLoss + "'");
            }
            weight(attentionWeight, "--attention-weight");
        }
        if (valueRelationWeight != 0) {
            weight(valueRelationWeight, "--value-relation-weight");
        }
        if (relationHeads < 0) {
            throw new IllegalArgumentException(
                    "--relation-heads: expected a positive number (0: the student's KV heads), got " + relationHeads);
        }
        if (attentionLoss != null || valueRelationWeight != 0) {
            LayerMap.checkSyntax(attentionLayers, "--attention-layers");
        }
    }

    private static void weight(double w, String option) {
        if (!(w > 0) || Double.isInfinite(w)) {
            throw new IllegalArgumentException(option + ": expected a positive number, got " + w);
        }
    }

    /** Into trainer_state.json's options, under {@code "teacher"}. */
    void toJson(ObjectNode o) {
        o.put("path", teacher.toString());
        o.put("dtype", dtype);
        o.put("top_k", topK);
        if (featureLoss != null) {
            o.put("feature_loss", featureLoss);
            o.put("feature_weight", featureWeight);
            o.put("layer_map", layerMap);
        }
        if (attentionLoss != null) {
            o.put("attention_loss", attentionLoss);
            o.put("attention_weight", attentionWeight);
        }
        if (attentionLoss != null || valueRelationWeight != 0) {
            o.put("attention_layers", attentionLayers);
        }
        if (valueRelationWeight != 0) {
            o.put("value_relation_weight", valueRelationWeight);
            o.put("relation_heads", relationHeads);
        }
    }
}
