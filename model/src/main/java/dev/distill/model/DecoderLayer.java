package dev.distill.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.Map;

/**
 * One pre-norm decoder block (Llama/Mistral/Qwen2/Qwen3): RMSNorm, fused q/k/v projection,
 * optional per-head q/k RMSNorm (qwen3), rotary embedding, grouped-query attention (queries of a KV
 * group batched into one matmul, no repeated K/V), output projection, residual; RMSNorm, fused
 * gate/up projection, SiLU gate, down projection, residual. No per-head loops.
 */
final class DecoderLayer {
    private final int index;
    private final int heads;
    private final int kvHeads;
    private final int headDim;
    private final int intermediate;
    private final Constants k;
    private final NDArray inputNorm;
    private final NDArray qkv;
    private final NDArray qkvBias;
    private final NDArray qNorm;
    private final NDArray kNorm;
    private final NDArray qkHeadKinds; // qwen3: [Hq+Hkv] int64, 0 for a query head, 1 for a key head
    private final NDArray oProj;
    private final NDArray postNorm;
    private final NDArray gateUp;
    private final NDArray down;

    DecoderLayer(int index, ModelConfig c, Map<String, NDArray> params, Constants constants) {
        String p = "model.layers." + index + ".";
        this.index = index;
        this.heads = c.numHeads();
        this.kvHeads = c.numKvHeads();
        this.headDim = c.headDim();
        this.intermediate = c.intermediateSize();
        this.k = constants;
        inputNorm = params.get(p + "input_layernorm.weight");
        qkv = params.get(p + "self_attn.qkv_proj.weight");
        qkvBias = params.get(p + "self_attn.qkv_proj.bias");
        qNorm = params.get(p + "self_attn.q_norm.weight");
        kNorm = params.get(p + "self_attn.k_norm.weight");
        qkHeadKinds = qNorm == null ? null : qNorm.getManager().create(headKinds(heads, kvHeads));
        oProj = params.get(p + "self_attn.o_proj.weight");
        postNorm = params.get(p + "post_attention_layernorm.weight");
        gateUp = params.get(p + "mlp.gate_up_proj.weight");
        down = params.get(p + "mlp.down_proj.weight");
    }

    /**
     * x [B, T, H] -> [B, T, H]. {@code bias} [B, 1, T, S] float32; with a cache, this layer's
     * keys/values are written at slots [past, past + T) and attention reads slots [0, past + T).
     */
    NDArray forward(NDArray x, RotaryTables rope, NDArray bias, KvCache cache, int past, LayerTaps taps) {
        Shape s = x.getShape();
        long b = s.get(0);
        long t = s.get(1);
        long groups = heads / kvHeads;
        long span = past + t;

        NDArray h = Ops.rmsNorm(x, inputNorm, k.eps, k.minusHalf);
        NDArray proj = Ops.linear(h, qkv, qkvBias).reshape(b, t, heads + 2L * kvHeads, headDim); // [B, T, Hq+2Hkv, D]
        NDList qkAndV = proj.split(new long[] {heads + kvHeads}, 2);
        NDArray qk = qkAndV.get(0); // [B, T, Hq+Hkv, D]
        if (qNorm != null) {
            qk = Ops.rmsNorm(qk, headNormWeight(), k.eps, k.minusHalf);
        }
        NDList qAndK = rope.apply(qk).split(new long[] {heads}, 2);
        NDArray keys = qAndK.get(1).transpose(0, 2, 1, 3); // [B, Hkv, T, D]
        NDArray values = qkAndV.get(1).transpose(0, 2, 1, 3); // [B, Hkv, T, D]
        if (taps != null && taps.wantsValues(index)) {
            taps.recordValues(index, values);
        }
        if (cache != null) {
            cache.write(index, past, keys, values);
            keys = cache.keys(index, (int) span); // [B, Hkv, S, D]
            values = cache.values(index, (int) span); // [B, Hkv, S, D]
        }
        // Decoding (T = 1) skips the reshapes and transposes that would only move a size-1 axis.
        NDArray q = qAndK.get(0).mul(k.scale); // [B, T, Hq, D]
        q = t == 1 ? q.reshape(b, kvHeads, groups, headDim) // [B, Hkv, G, D]
                : q.reshape(b, t, kvHeads, groups, headDim).transpose(0, 2, 3, 1, 4)
                        .reshape(b, kvHeads, groups * t, headDim); // [B, Hkv, G*T, D], row g*T + t
        NDArray scores = q.matMul(keys.transpose(0, 1, 3, 2)); // [B, Hkv, G*T, S]
        NDArray probs = t == 1
                ? Ops.softmaxFloat(scores.add(bias), -1) // [B, Hkv, G, S] float32
                : Ops.softmaxFloat(scores.reshape(b, kvHeads, groups, t, span).add(bias.expandDims(1)), -1)
                        .reshape(b, kvHeads, groups * t, span); // [B, Hkv, G*T, S] float32
        if (taps != null && taps.wantsAttention(index)) {
            taps.recordAttention(index, probs.reshape(b, heads, t, span)); // [B, Hq, T, S]; query head = kv * G + g
        }
        probs = Ops.cast(probs, x.getDataType());
        NDArray context = probs.matMul(values); // [B, Hkv, G*T, D]
        context = t == 1 ? context.reshape(b, 1, (long) heads * headDim) // [B, 1, Hq*D]
                : context.reshape(b, kvHeads, groups, t, headDim).transpose(0, 3, 1, 2, 4)
                        .reshape(b, t, (long) heads * headDim); // [B, T, Hq*D]
        x = x.add(Ops.linear(context, oProj, null));

        h = Ops.rmsNorm(x, postNorm, k.eps, k.minusHalf);
        NDList gateAndUp = Ops.linear(h, gateUp, null).split(new long[] {intermediate}, 2); // 2 x [B, T, I]
        NDArray gate = gateAndUp.get(0);
        NDArray act = gate.mul(Ops.sigmoid(gate)).mul(gateAndUp.get(1)); // silu(gate) * up
        return x.add(Ops.linear(act, down, null));
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
     * 0-dim float32 constants on the model's device, made once (a Java number operand would be copied
     * to the device at every use): RMSNorm's eps and -1/2, the attention scale, and the two values of
     * the attention bias.
     */
    record Constants(NDArray eps, NDArray minusHalf, NDArray scale, NDArray visible, NDArray masked) {}
}
