package dev.distill.model.gguf;

import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How llama.cpp's convert_hf_to_gguf.py maps each supported Hugging Face architecture to GGUF: the
 * GGUF architecture name, tensor names, and whether q/k rows are permuted (llama and mistral go to
 * llama.cpp's "llama" architecture, whose rotary embedding pairs adjacent elements, so the HF
 * rotate-half layout of q_proj and k_proj is reordered; qwen2/qwen3 use the NeoX rope, unpermuted).
 */
public enum GgufArchitecture {
    LLAMA("llama", true),
    QWEN2("qwen2", false),
    QWEN3("qwen3", false);

    /** {@code general.architecture} and the prefix of the architecture's metadata keys. */
    public final String ggufName;
    /** Whether q_proj/k_proj rows are permuted for an interleaved rotary embedding. */
    public final boolean permuteQk;

    GgufArchitecture(String ggufName, boolean permuteQk) {
        this.ggufName = ggufName;
        this.permuteQk = permuteQk;
    }

    /** The GGUF architecture for HF {@code model_type}, or an error listing the supported ones. */
    public static GgufArchitecture ofModelType(String modelType) {
        return switch (modelType) {
            case "llama", "mistral" -> LLAMA;
            case "qwen2" -> QWEN2;
            case "qwen3" -> QWEN3;
            default -> throw new GgufException("model_type '" + modelType
                    + "' cannot be exported to GGUF (supported: llama, mistral, qwen2, qwen3)");
        };
    }

    /** The architecture named by {@code general.architecture}. */
    public static GgufArchitecture ofGgufName(String name) {
        for (GgufArchitecture a : values()) {
            if (a.ggufName.equals(name)) {
                return a;
            }
        }
        throw new GgufException(
                "general.architecture '" + name + "' is not supported (supported: llama, qwen2, qwen3)");
    }

    /** The HF model_type a GGUF file of this architecture loads as. */
    public String modelType() {
        return ggufName;
    }

    private static final Map<String, String> GLOBAL = Map.of(
            "model.embed_tokens.weight", "token_embd.weight",
            "model.norm.weight", "output_norm.weight",
            "lm_head.weight", "output.weight");
    private static final List<String[]> LAYER = List.of(
            new String[] {"input_layernorm", "attn_norm"},
            new String[] {"self_attn.q_proj", "attn_q"},
            new String[] {"self_attn.k_proj", "attn_k"},
            new String[] {"self_attn.v_proj", "attn_v"},
            new String[] {"self_attn.o_proj", "attn_output"},
            new String[] {"self_attn.q_norm", "attn_q_norm"},
            new String[] {"self_attn.k_norm", "attn_k_norm"},
            new String[] {"post_attention_layernorm", "ffn_norm"},
            new String[] {"mlp.gate_proj", "ffn_gate"},
            new String[] {"mlp.up_proj", "ffn_up"},
            new String[] {"mlp.down_proj", "ffn_down"});
    private static final Pattern HF_LAYER = Pattern.compile("model\\.layers\\.(\\d+)\\.(.+)\\.(weight|bias)");

    /** The GGUF name of HF tensor {@code hfName} (e.g. model.layers.3.mlp.up_proj.weight -> blk.3.ffn_up.weight). */
    public static String ggufTensorName(String hfName) {
        String g = GLOBAL.get(hfName);
        if (g != null) {
            return g;
        }
        Matcher m = HF_LAYER.matcher(hfName);
        if (m.matches()) {
            for (String[] pair : LAYER) {
                if (pair[0].equals(m.group(2))) {
                    return "blk." + m.group(1) + "." + pair[1] + "." + m.group(3);
                }
            }
        }
        throw new GgufException("tensor '" + hfName + "' has no GGUF name");
    }

    /**
     * Reorders the rows of a [heads * headDim, cols] q/k projection from HF's rotate-half layout
     * (each head: first halves, then second halves) to interleaved pairs, as convert_hf_to_gguf's
     * {@code permute}: row h*D + i*D/2 + j moves to h*D + 2j + i. {@code inverse} undoes it.
     */
    public static float[] permuteRows(float[] w, int heads, int cols, boolean inverse) {
        int rows = w.length / cols;
        int d = rows / heads;
        int half = d / 2;
        float[] out = new float[w.length];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < 2; i++) {
                for (int j = 0; j < half; j++) {
                    int hf = h * d + i * half + j;
                    int gg = h * d + 2 * j + i;
                    int from = inverse ? gg : hf;
                    int to = inverse ? hf : gg;
                    System.arraycopy(w, from * cols, out, to * cols, cols);
                }
            }
        }
        return out;
    }
}
