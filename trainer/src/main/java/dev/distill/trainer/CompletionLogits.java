package dev.distill.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import dev.distill.model.CausalLM;
import dev.distill.model.LayerTaps;
import dev.distill.trainer.data.BatchTensors;
import java.util.Map;

/**
 * A model's logits at a batch's trained positions only: final hidden states [B, L, H], the trained
 * positions gathered to [N, H], then the LM head to [N, V]. The full [B, L, V] is never built.
 */
final class CompletionLogits {
    private CompletionLogits() {}

    /**
     * @return [N, V]: float32, or float16 for a half-precision model while training (the LM head's
     *     output stays in half precision, half the memory of [N, V]; the losses promote it. {@link
     *     CausalLM#logits} would widen it to float32 through the differentiable {@code Ops.cast})
     */
    static NDArray of(CausalLM model, BatchTensors batch, boolean training) {
        return of(model, batch, training, null);
    }

    /** {@link #of(CausalLM, BatchTensors, boolean)} that also records into {@code taps} (null: nothing). */
    static NDArray of(CausalLM model, BatchTensors batch, boolean training, LayerTaps taps) {
        NDArray picked = trainedHidden(model, batch, taps); // [N, H]
        if (!training || model.dtype() == DataType.FLOAT32) {
            return model.logits(picked); // [N, V] float32
        }
        return picked.matMul(lmHead(model).transpose()); // [N, V] float16, differentiable
    }

    /**
     * The float32 logits at the teacher's ids only, [N, k] = {@code of(...).gather(ids, 1)}, without the [N, V] LM
     * head product and its backward: for an objective that reads nothing else (top-k KD with {@code --tail zero}).
     *
     * @param ids [N, k] token ids in [0, V), int32 or int64
     */
    static NDArray atIds(CausalLM model, BatchTensors batch, NDArray ids, LayerTaps taps) {
        NDArray picked = trainedHidden(model, batch, taps); // [N, H]
        return model.logitsAt(picked, ids.getDataType() == DataType.INT64 ? ids : ids.toType(DataType.INT64, false));
    }

    /** Final hidden states [B, L, H] at the trained positions -> [N, H] */
    private static NDArray trainedHidden(CausalLM model, BatchTensors batch, LayerTaps taps) {
        NDArray hidden =
                model.hidden(batch.inputIds(), batch.positionIds(), batch.attentionMask(), null, taps); // [B, L, H]
        long h = hidden.getShape().get(2);
        return hidden.reshape(-1, h).get(new NDIndex("{}", batch.gatherIndex())); // [N, H]
    }

    private static NDArray lmHead(CausalLM model) {
        Map<String, NDArray> params = model.parameters();
        NDArray head = params.get("lm_head.weight");
        return head != null ? head : params.get("model.embed_tokens.weight"); // [V, H]; tied embeddings
    }
}
