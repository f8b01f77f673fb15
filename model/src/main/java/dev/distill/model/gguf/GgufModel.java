package dev.distill.model.gguf;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill.model.CausalLM;
import dev.distill.model.ModelConfig;
import dev.distill.model.ParameterLayout.Part;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

/**
 * Loads a GGUF file (llama, qwen2, qwen3) as a {@link CausalLM} on its dequantised weights: the
 * config is rebuilt from the architecture metadata, each tensor is dequantised to float32 and llama's
 * q/k row permutation undone, so the model computes exactly what the quantised weights mean.
 */
public final class GgufModel {
    /** Custom key: distill's tokenizer hash, so soft labels can be checked against a GGUF file's tokenizer. */
    public static final String TOKENIZER_SHA_KEY = "distill.tokenizer_sha256";

    private static final ObjectMapper JSON = new ObjectMapper();

    private GgufModel() {}

    /** Whether {@code path} names a GGUF file (a regular file ending in .gguf). */
    public static boolean isGguf(Path path) {
        return path.getFileName() != null
                && path.getFileName().toString().endsWith(".gguf")
                && Files.isRegularFile(path);
    }

    /** The tokenizer hash distill wrote into {@code path}, or an error naming the file and key. */
    public static String tokenizerSha256(Path path) {
        try (GgufFile f = GgufFile.open(path)) {
            return f.require(TOKENIZER_SHA_KEY, String.class);
        }
    }

    public static CausalLM load(Path path, DataType dtype, Device device) {
        try (GgufFile f = GgufFile.open(path)) {
            ModelConfig config = config(f);
            GgufArchitecture arch = GgufArchitecture.ofGgufName(f.require("general.architecture", String.class));
            Set<String> used = new HashSet<>();
            CausalLM lm = CausalLM.fromHfTensors(
                    config,
                    part -> {
                        String name = GgufArchitecture.ggufTensorName(part.hfName());
                        GgufFile.TensorInfo info = f.tensors().get(name);
                        if (info == null) {
                            throw new GgufException(
                                    path + ": missing tensor '" + name + "' " + Arrays.toString(part.shape()));
                        }
                        if (!Arrays.equals(info.shape(), part.shape())) {
                            throw new GgufException(path + ": tensor '" + name + "' has shape "
                                    + Arrays.toString(info.shape()) + ", expected " + Arrays.toString(part.shape()));
                        }
                        used.add(name);
                        return unpermute(arch, config, part, f.read(name));
                    },
                    dtype,
                    device);
            Set<String> extra = new HashSet<>(f.tensors().keySet());
            extra.removeAll(used);
            extra.remove("rope_freqs.weight");
            if (!extra.isEmpty()) {
                lm.close();
                throw new GgufException(
                        path + ": unexpected tensor '" + extra.iterator().next() + "'");
            }
            return lm;
        }
    }

    private static float[] unpermute(GgufArchitecture arch, ModelConfig c, Part part, float[] data) {
        if (arch.permuteQk && part.hfName().endsWith("self_attn.q_proj.weight")) {
            return GgufArchitecture.permuteRows(data, c.numHeads(), (int) part.shape()[1], true);
        }
        if (arch.permuteQk && part.hfName().endsWith("self_attn.k_proj.weight")) {
            return GgufArchitecture.permuteRows(data, c.numKvHeads(), (int) part.shape()[1], true);
        }
        return data;
    }

    /** The HF config a GGUF file's metadata describes (parsed by {@link ModelConfig#fromJson}). */
    static ModelConfig config(GgufFile f) {
        String a = f.require("general.architecture", String.class);
        GgufArchitecture arch = GgufArchitecture.ofGgufName(a);
        ObjectNode o = JSON.createObjectNode();
        o.put("model_type", arch.modelType());
        o.putArray("architectures")
                .add(
                        switch (arch) {
                            case LLAMA -> "LlamaForCausalLM";
                            case QWEN2 -> "Qwen2ForCausalLM";
                            case QWEN3 -> "Qwen3ForCausalLM";
                        });
        GgufFile.TensorInfo embd = f.tensors().get("token_embd.weight");
        if (embd == null) {
            throw new GgufException(f.path() + ": missing tensor 'token_embd.weight'");
        }
        int heads = u32(f, a + ".attention.head_count");
        int hidden = u32(f, a + ".embedding_length");
        o.put("vocab_size", embd.shape()[0]);
        o.put("hidden_size", hidden);
        o.put("intermediate_size", u32(f, a + ".feed_forward_length"));
        o.put("num_hidden_layers", u32(f, a + ".block_count"));
        o.put("num_attention_heads", heads);
        o.put(
                "num_key_value_heads",
                f.metadata().containsKey(a + ".attention.head_count_kv")
                        ? u32(f, a + ".attention.head_count_kv")
                        : heads);
        o.put(
                "head_dim",
                f.metadata().containsKey(a + ".attention.key_length")
                        ? u32(f, a + ".attention.key_length")
                        : hidden / heads);
        o.put("max_position_embeddings", u32(f, a + ".context_length"));
        o.put("rms_norm_eps", f.require(a + ".attention.layer_norm_rms_epsilon", Double.class));
        o.put("rope_theta", f.metadata().get(a + ".rope.freq_base") instanceof Double d ? d.doubleValue() : 10000.0);
        o.put("hidden_act", "silu");
        o.put("tie_word_embeddings", !f.tensors().containsKey("output.weight"));
        o.put("torch_dtype", "float32");
        Object scaling = f.metadata().get(a + ".rope.scaling.type");
        if (f.metadata().get(GgufExport.ROPE_SCALING_KEY) instanceof String s) {
            try {
                o.set("rope_scaling", JSON.readTree(s));
            } catch (IOException e) {
                throw new GgufException(f.path() + ": metadata key '" + GgufExport.ROPE_SCALING_KEY + "' is not JSON");
            }
        } else if (f.tensors().containsKey("rope_freqs.weight")) {
            throw new GgufException(f.path() + ": tensor 'rope_freqs.weight' (per-frequency rope factors) without '"
                    + GgufExport.ROPE_SCALING_KEY + "' is not supported");
        } else if ("linear".equals(scaling)) {
            ObjectNode s = o.putObject("rope_scaling");
            s.put("rope_type", "linear");
            s.put("factor", f.require(a + ".rope.scaling.factor", Double.class));
        } else if (scaling != null && !"none".equals(scaling)) {
            throw new GgufException(f.path() + ": " + a + ".rope.scaling.type '" + scaling
                    + "' is not supported (supported: none, linear)");
        }
        for (String[] id :
                new String[][] {{"bos_token_id", "bos"}, {"eos_token_id", "eos"}, {"pad_token_id", "padding"}}) {
            if (f.metadata().get("tokenizer.ggml." + id[1] + "_token_id") instanceof Long v) {
                o.put(id[0], v);
            }
        }
        return ModelConfig.fromJson((JsonNode) o, f.path() + " (GGUF metadata)");
    }

    private static int u32(GgufFile f, String key) {
        return Math.toIntExact(f.require(key, Long.class));
    }
}
