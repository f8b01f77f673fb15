package dev.distill.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * One pre-norm decoder block (Llama/Mistral/Qwen2/Qwen3): RMSNorm, fused q/k/v projection,
 * optional per-head q/k RMSNorm (qwen3), rotary embedding, grouped-query attention (queries of a KV
 * group batched into one attention, no repeated K/V; libtorch's fused kernel or an explicit float32
 * softmax), output projection, residual; RMSNorm, fused gate/up projection, SiLU gate, down
 * projection, residual. No per-head loops. With a KV cache, keys and values travel together as one
 * [B, 2Hkv, T, D] tensor (one cache write per layer); without one, only q and k are rotated and the
 * values stay a view of the projection.
 */
final class DecoderLayer {
    private final int index;
    private final int heads;
    private final int kvHeads;
    private final int headDim;
    private final Constants k;
    private final RmsNorm norm;
    private final SwiGlu swiGlu;
    private final NDArray inputNorm;
    private final Linear qkv;
    private final NDArray qNorm;
    private final NDArray kNorm;
    private final NDArray qkHeadKinds; // qwen3: [Hq+Hkv] int64, 0 for a query head, 1 for a key head
    private final Linear oProj;
    private final NDArray postNorm;
    private final Linear gateUp;
    private final Linear down;
    private final DecodeStep decodeStep; // null: decode steps run op by op
    private NDArray[] decodeWeights; // decodeStep's weights, in its order
    private boolean packed; // the projections run on oneDNN-packed weights (inference only)

    DecoderLayer(
            int index,
            ModelConfig c,
            Map<String, NDArray> params,
            Constants constants,
            RmsNorm norm,
            SwiGlu swiGlu,
            DecodeStep decodeStep) {
        String p = "model.layers." + index + ".";
        this.index = index;
        this.heads = c.numHeads();
        this.kvHeads = c.numKvHeads();
        this.headDim = c.headDim();
        this.k = constants;
        this.norm = norm;
        this.swiGlu = swiGlu;
        inputNorm = params.get(p + "input_layernorm.weight");
        qkv = new Linear(params.get(p + "self_attn.qkv_proj.weight"), params.get(p + "self_attn.qkv_proj.bias"));
        qNorm = params.get(p + "self_attn.q_norm.weight");
        kNorm = params.get(p + "self_attn.k_norm.weight");
        qkHeadKinds = qNorm == null ? null : qNorm.getManager().create(headKinds(heads, kvHeads));
        oProj = new Linear(params.get(p + "self_attn.o_proj.weight"), null);
        postNorm = params.get(p + "post_attention_layernorm.weight");
        gateUp = new Linear(params.get(p + "mlp.gate_up_proj.weight"), null);
        down = new Linear(params.get(p + "mlp.down_proj.weight"), null);
        this.decodeStep = decodeStep;
        decodeWeights = listDecodeWeights();
    }

    /** decodeStep's weights, in its order: the projections as {@link Linear#inferenceWeight}. */
    private NDArray[] listDecodeWeights() {
        List<NDArray> w = new ArrayList<>(List.of(
                inputNorm,
                qkv.inferenceWeight(),
                oProj.inferenceWeight(),
                postNorm,
                gateUp.inferenceWeight(),
                down.inferenceWeight()));
        if (qkv.bias() != null) {
            w.add(qkv.bias());
        }
        if (qNorm != null) {
            w.add(qNorm); // the parameters themselves: a trained model's decode step sees their current values
            w.add(kNorm);
        }
        return w.toArray(new NDArray[0]);
    }

    /**
     * Packs the four projections for oneDNN (see {@link CausalLM#packForInference}), releasing each weight once its
     * packed copy exists: the layer runs inference only from now on.
     */
    void pack(OneDnnLinear ops) {
        for (Linear l : new Linear[] {qkv, oProj, gateUp, down}) {
            l.pack(ops, true);
        }
        packed = true;
        decodeWeights = listDecodeWeights();
    }

    /** {@link DecodeStep}'s weights of this layer, in its order (packed ones once {@link #pack}ed). */
    NDArray[] decodeWeights() {
        return decodeWeights;
    }

    /**
     * x [B, T, H] -> [B, T, H]. With a cache, this layer's keys/values are written at slots
     * [past, past + T) and attention reads slots [0, past + T). {@code fused} non-null: attention by
     * libtorch's fused kernel, {@code bias} [B, 1, G*T, S] (T > 1) or [B, 1, 1, S] in the model dtype;
     * null: explicit float32 softmax, {@code bias} [B, 1, T, S] float32 (see {@link AttentionBias}). A decode
     * step (T = 1, a cache, the fused kernel, no taps on this layer's values, no autograd) runs as one
     * {@link DecodeStep} call with the same ops.
     */
    NDArray forward(
            NDArray x,
            RotaryTables.Rotation rope,
            NDArray bias,
            FusedAttention fused,
            KvCache cache,
            int past,
            LayerTaps taps) {
        Shape s = x.getShape();
        long b = s.get(0);
        long t = s.get(1);
        long groups = heads / kvHeads;
        long span = past + t;
        long all = heads + 2L * kvHeads;
        if (t == 1
                && cache != null
                && fused != null
                && decodeStep != null
                && (taps == null || !taps.wantsValues(index))
                && !JniUtils.isGradMode()) {
            // a decode step: the same ops as below, in one call
            return decodeStep.apply(
                    x,
                    decodeWeights,
                    rope.cos(),
                    rope.signedSin(),
                    cache.buffer(index),
                    bias,
                    past,
                    heads,
                    kvHeads,
                    qNorm != null,
                    packed);
        }

        NDArray h = norm.apply(x, inputNorm);
        NDArray proj = qkv.apply(h); // [B, T, (Hq+2Hkv)*D]
        NDArray q; // [B, T, Hq, D]
        NDArray keys; // [B, Hkv, S, D]
        NDArray values; // [B, Hkv, S, D]
        if (cache == null && t > 1) {
            // No cache (training, scoring): the value heads are a view of the projection, only q and k
            // are rotated, and nothing is concatenated: no copy of the projection forward, and one
            // gradient concatenation fewer backward.
            NDList qkAndV = proj.reshape(b, t, all, headDim).split(new long[] {heads + kvHeads}, 2);
            NDArray qk = qkAndV.get(0); // [B, T, Hq+Hkv, D]
            if (qNorm != null) {
                qk = norm.apply(qk, headNormWeight());
            }
            NDList qAndK = rope.rotate(qk.reshape(b, t, heads + kvHeads, 2, headDim / 2))
                    .reshape(b, t, heads + kvHeads, headDim)
                    .split(new long[] {heads}, 2);
            q = qAndK.get(0);
            keys = qAndK.get(1).transpose(0, 2, 1, 3);
            values = qkAndV.get(1).transpose(0, 2, 1, 3);
            if (taps != null && taps.wantsValues(index)) {
                taps.recordValues(index, values);
            }
        } else {
            if (qNorm != null) {
                NDList qkAndV = proj.reshape(b, t, all, headDim).split(new long[] {heads + kvHeads}, 2);
                NDArray qk = norm.apply(qkAndV.get(0), headNormWeight()); // [B, T, Hq+Hkv, D]
                proj = qk.concat(qkAndV.get(1), 2);
            }
            NDArray rotated = rope.apply(proj.reshape(b, t, all, 2, headDim / 2), heads + kvHeads)
                    .reshape(b, t, all, headDim); // [B, T, Hq+2Hkv, D], q and k rotated
            NDList qAndKv = rotated.split(new long[] {heads}, 2);
            NDArray kv = qAndKv.get(1).transpose(0, 2, 1, 3); // [B, 2Hkv, T, D]: keys then values
            if (taps != null && taps.wantsValues(index)) {
                taps.recordValues(index, kv.split(2, 1).get(1)); // [B, Hkv, T, D]
            }
            if (cache != null) {
                cache.write(index, past, kv);
                kv = cache.keysAndValues(index, (int) span); // [B, 2Hkv, S, D]
            }
            NDList keysAndValues = kv.split(2, 1);
            keys = keysAndValues.get(0);
            values = keysAndValues.get(1);
            q = qAndKv.get(0);
        }
        // The G query heads of a KV head as G*T rows of one attention (no repeated K/V). Decoding (T = 1)
        // skips the reshapes and transposes that would only move a size-1 axis.
        q = t == 1
                ? q.reshape(b, kvHeads, groups, headDim) // [B, Hkv, G, D]
                : q.reshape(b, t, kvHeads, groups, headDim)
                        .transpose(0, 2, 3, 1, 4)
                        .reshape(b, kvHeads, groups * t, headDim); // [B, Hkv, G*T, D], row g*T + t
        NDArray context = fused != null
                ? fused.apply(q, keys, values, bias) // [B, Hkv, G*T, D]
                : softmaxAttention(q, keys, values, bias, x.getDataType(), taps);
        context = t == 1
                ? context.reshape(b, 1, (long) heads * headDim) // [B, 1, Hq*D]
                : context.reshape(b, kvHeads, groups, t, headDim)
                        .transpose(0, 3, 1, 2, 4)
                        .reshape(b, t, (long) heads * headDim); // [B, T, Hq*D]
        x = x.add(oProj.apply(context));

        h = norm.apply(x, postNorm);
        NDArray act = swiGlu.apply(gateUp.apply(h)); // [B, T, 2I] -> silu(gate) * up [B, T, I]
        return x.add(down.apply(act));
    }

    /**
     * Attention with the probabilities computed explicitly (float32 softmax, as transformers' eager
     * attention): q [B, Hkv, G*T, D] (row g*T + t), keys and values [B, Hkv, S, D], bias [B, 1, T, S]
     * float32 -> context [B, Hkv, G*T, D] in {@code type}; the probabilities go to {@code taps} when
     * they ask for this layer's.
     */
    private NDArray softmaxAttention(
            NDArray q, NDArray keys, NDArray values, NDArray bias, DataType type, LayerTaps taps) {
        Shape qs = q.getShape();
        long b = qs.get(0);
        long rows = qs.get(2);
        long span = keys.getShape().get(2);
        long t = bias.getShape().get(2);
        long groups = rows / t;
        NDArray scores = q.mul(k.scale).matMul(keys.transpose(0, 1, 3, 2)); // [B, Hkv, G*T, S]
        NDArray probs = t == 1
                ? Ops.softmaxFloat(scores.add(bias), -1) // [B, Hkv, G, S] float32
                : Ops.softmaxFloat(scores.reshape(b, kvHeads, groups, t, span).add(bias.expandDims(1)), -1)
                        .reshape(b, kvHeads, rows, span); // [B, Hkv, G*T, S] float32
        if (taps != null && taps.wantsAttention(index)) {
            taps.recordAttention(
                    index, probs.reshape(b, (long) heads, t, span)); // [B, Hq, T, S]; query head = kv * G + g
        }
        return Ops.cast(probs, type).matMul(values); // [B, Hkv, G*T, D]
    }

    int index() {
        return index;
    }

    private static long[] headKinds(int queryHeads, int keyHeads) {
        long[] kinds = new long[queryHeads + keyHeads];
        Arrays.fill(kinds, queryHeads, kinds.length, 1);
        return kinds;
    }

    /** qwen3: q_norm repeated over the query heads then k_norm over the KV heads -> [Hq+Hkv, D] */
    private NDArray headNormWeight() {
        return Ops.selectRows(NDArrays.stack(new NDList(qNorm, kNorm)), qkHeadKinds); // rows of [2, D]
    }

    /**
     * 0-dim constants on the model's device, made once (a Java number operand would be copied to the
     * device at every use): the attention scale, and the two values of the
     * attention bias, float32 for the explicit softmax and in the model dtype for the fused kernel
     * (-1e9, or float16's lowest finite value: a row that sees nothing stays finite).
     */
    record Constants(NDArray scale, NDArray visible, NDArray masked, NDArray fusedVisible, NDArray fusedMasked) {}
}
