package dev.distill.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The parameters a config implies, in a stable order: each model parameter with its shape and the
 * Hugging Face checkpoint tensors it is made of. Two parameters per layer are fused (their HF parts
 * concatenated along dim 0) so one matmul does the work of several:
 * {@code model.layers.N.self_attn.qkv_proj.weight} = q_proj ++ k_proj ++ v_proj (and the same for
 * {@code .bias} on qwen2), and {@code model.layers.N.mlp.gate_up_proj.weight} = gate_proj ++ up_proj.
 * Every other parameter has exactly its HF name.
 */
public final class ParameterLayout {
    private ParameterLayout() {}

    /** How {@link CausalLM#randomInit} fills a parameter. */
    public enum Init {
        /** normal(0, initializer_range) */
        NORMAL,
        /** RMSNorm weights */
        ONES,
        /** biases */
        ZEROS
    }

    /** One HF checkpoint tensor. */
    public record Part(String hfName, long[] shape) {
        public long numel() {
            return Arrays.stream(shape).reduce(1, Math::multiplyExact);
        }
    }

    /** One model parameter: its name in {@link CausalLM#parameters()}, shape, HF parts (concatenated on dim 0). */
    public record Param(String name, long[] shape, List<Part> parts, Init init) {
        public boolean fused() {
            return parts.size() > 1;
        }
    }

    /** The parameters of {@code c}: embeddings, then each layer, then the final norm and (untied) lm_head. */
    public static List<Param> of(ModelConfig c) {
        long h = c.hiddenSize();
        long d = c.headDim();
        long q = c.numHeads() * d;
        long kv = c.numKvHeads() * d;
        long inter = c.intermediateSize();
        List<Param> out = new ArrayList<>();
        out.add(single("model.embed_tokens.weight", Init.NORMAL, c.vocabSize(), h));
        for (int i = 0; i < c.numLayers(); i++) {
            String p = "model.layers." + i + ".";
            out.add(single(p + "input_layernorm.weight", Init.ONES, h));
            out.add(fused(
                    p + "self_attn.qkv_proj.weight",
                    Init.NORMAL,
                    List.of(
                            new Part(p + "self_attn.q_proj.weight", new long[] {q, h}),
                            new Part(p + "self_attn.k_proj.weight", new long[] {kv, h}),
                            new Part(p + "self_attn.v_proj.weight", new long[] {kv, h}))));
            if (c.qkvBias()) {
                out.add(fused(
                        p + "self_attn.qkv_proj.bias",
                        Init.ZEROS,
                        List.of(
                                new Part(p + "self_attn.q_proj.bias", new long[] {q}),
                                new Part(p + "self_attn.k_proj.bias", new long[] {kv}),
                                new Part(p + "self_attn.v_proj.bias", new long[] {kv}))));
            }
            if (c.qkNorm()) {
                out.add(single(p + "self_attn.q_norm.weight", Init.ONES, d));
                out.add(single(p + "self_attn.k_norm.weight", Init.ONES, d));
            }
            out.add(single(p + "self_attn.o_proj.weight", Init.NORMAL, h, q));
            out.add(single(p + "post_attention_layernorm.weight", Init.ONES, h));
            out.add(fused(
                    p + "mlp.gate_up_proj.weight",
                    Init.NORMAL,
                    List.of(
                            new Part(p + "mlp.gate_proj.weight", new long[] {inter, h}),
                            new Part(p + "mlp.up_proj.weight", new long[] {inter, h}))));
            out.add(single(p + "mlp.down_proj.weight", Init.NORMAL, h, inter));
        }
        out.add(single("model.norm.weight", Init.ONES, h));
        if (!c.tieWordEmbeddings()) {
            out.add(single("lm_head.weight", Init.NORMAL, c.vocabSize(), h));
        }
        return out;
    }

    private static Param single(String name, Init init, long... shape) {
        return new Param(name, shape, List.of(new Part(name, shape)), init);
    }

    private static Param fused(String name, Init init, List<Part> parts) {
        long[] shape = parts.get(0).shape().clone();
        shape[0] = parts.stream().mapToLong(pt -> pt.shape()[0]).sum();
        return new Param(name, shape, parts, init);
    }
}
