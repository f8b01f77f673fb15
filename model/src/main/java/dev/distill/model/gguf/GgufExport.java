package dev.distill.model.gguf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.distill.model.CausalLM;
import dev.distill.model.ModelConfig;
import dev.distill.model.ParameterLayout.Param;
import dev.distill.model.ParameterLayout.Part;
import dev.distill.model.RopeConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * A model as llama.cpp's convert_hf_to_gguf.py writes it: general and architecture metadata, then
 * the tokenizer's keys (supplied by the caller), then the tensors under their GGUF names. 2-D weights
 * take the requested type; 1-D ones (norms, biases, llama3 rope factors) stay float32, as in
 * llama.cpp's own files.
 */
public final class GgufExport {
    /** Custom key: the HF rope_scaling object (JSON) behind a rope_freqs tensor, so the file loads back exactly. */
    public static final String ROPE_SCALING_KEY = "distill.rope_scaling";

    private GgufExport() {}

    /** The {@code general.file_type} (llama_ftype) of a file whose weights are {@code type}. */
    static int fileType(GgmlType type) {
        return switch (type) {
            case F32 -> 0;
            case F16 -> 1;
            case Q4_0 -> 2;
            case Q8_0 -> 7;
        };
    }

    /** What was written: the file size and the matrices stored as the fallback type. */
    public record Result(long bytes, List<String> fellBack) {}

    /**
     * Writes {@code lm} to {@code out} with its matrices as {@code type}; {@code tokenizer} adds the
     * tokenizer.* keys. A matrix whose rows are not a multiple of the type's block size is stored as
     * {@code fallback} (as convert_hf_to_gguf.py falls back to f16), or, when that is null, fails naming it.
     */
    public static Result write(
            CausalLM lm, GgmlType type, GgmlType fallback, String name, Consumer<GgufWriter> tokenizer, Path out) {
        ModelConfig c = lm.config();
        GgufArchitecture arch = GgufArchitecture.ofModelType(c.modelType());
        String a = arch.ggufName;
        GgufWriter w = new GgufWriter();
        w.putString("general.architecture", a);
        w.putString("general.type", "model");
        w.putString("general.name", name);
        w.putU32(a + ".vocab_size", c.vocabSize());
        w.putU32(a + ".context_length", c.maxPositionEmbeddings());
        w.putU32(a + ".embedding_length", c.hiddenSize());
        w.putU32(a + ".block_count", c.numLayers());
        w.putU32(a + ".feed_forward_length", c.intermediateSize());
        w.putU32(a + ".attention.head_count", c.numHeads());
        w.putU32(a + ".attention.head_count_kv", c.numKvHeads());
        w.putF32(a + ".rope.freq_base", c.rope().theta());
        w.putF32(a + ".attention.layer_norm_rms_epsilon", c.rmsNormEps());
        w.putU32(a + ".attention.key_length", c.headDim());
        w.putU32(a + ".attention.value_length", c.headDim());
        w.putU32(a + ".rope.dimension_count", c.headDim());
        RopeConfig rope = c.rope();
        if (rope.type().equals("linear")) {
            w.putString(a + ".rope.scaling.type", "linear");
            w.putF32(a + ".rope.scaling.factor", rope.factor());
        } else if (rope.type().equals("llama3")) {
            w.putString(ROPE_SCALING_KEY, c.toHfJson().get("rope_scaling").toString());
        }
        w.putU32("general.file_type", fileType(type));
        w.putU32("general.quantization_version", 2);
        tokenizer.accept(w);

        if (rope.type().equals("llama3")) {
            float[] factors = llama3RopeFactors(rope, c.headDim());
            w.addTensor(new GgufWriter.Tensor(
                    "rope_freqs.weight", new long[] {factors.length}, GgmlType.F32, () -> factors));
        }
        HfTensors hf = new HfTensors(lm);
        List<String> fellBack = new ArrayList<>();
        for (Param p : lm.layout()) {
            for (Part part : p.parts()) {
                long[] shape = part.shape();
                String gg = GgufArchitecture.ggufTensorName(part.hfName());
                GgmlType t = shape.length == 1 ? GgmlType.F32 : type;
                if (fallback != null && shape[shape.length - 1] % t.blockSize != 0) {
                    t = fallback;
                    fellBack.add(gg);
                }
                w.addTensor(new GgufWriter.Tensor(gg, shape, t, () -> {
                    float[] data = hf.get(p, part);
                    if (arch.permuteQk && part.hfName().endsWith("self_attn.q_proj.weight")) {
                        return GgufArchitecture.permuteRows(data, c.numHeads(), (int) shape[1], false);
                    }
                    if (arch.permuteQk && part.hfName().endsWith("self_attn.k_proj.weight")) {
                        return GgufArchitecture.permuteRows(data, c.numKvHeads(), (int) shape[1], false);
                    }
                    return data;
                }));
            }
        }
        return new Result(w.write(out), fellBack);
    }

    /** convert_hf_to_gguf's rope_freqs for llama3 scaling: per frequency, the divisor llama.cpp applies. */
    static float[] llama3RopeFactors(RopeConfig r, int headDim) {
        float[] out = new float[headDim / 2];
        double lowWavelen = r.originalMaxPositionEmbeddings() / r.lowFreqFactor();
        double highWavelen = r.originalMaxPositionEmbeddings() / r.highFreqFactor();
        for (int i = 0; i < out.length; i++) {
            float freq = 1.0f / (float) Math.pow(r.theta(), (float) (2 * i) / (float) headDim);
            double wavelen = 2 * Math.PI / freq;
            if (wavelen < highWavelen) {
                out[i] = 1f;
            } else if (wavelen > lowWavelen) {
                out[i] = (float) r.factor();
            } else {
                double smooth = (r.originalMaxPositionEmbeddings() / wavelen - r.lowFreqFactor())
                        / (r.highFreqFactor() - r.lowFreqFactor());
                out[i] = (float) (1 / ((1 - smooth) / r.factor() + smooth));
            }
        }
        return out;
    }

    /** The HF tensors of a model as float32 arrays, each fused parameter read once for all its parts. */
    private static final class HfTensors {
        private final CausalLM lm;
        private Param cached;
        private float[] cachedData;

        HfTensors(CausalLM lm) {
            this.lm = lm;
        }

        float[] get(Param p, Part part) {
            if (cached != p) {
                NDArray t = lm.parameters().get(p.name());
                try (NDArray f = t.toType(DataType.FLOAT32, true)) {
                    cachedData = f.toFloatArray();
                }
                cached = p;
            }
            if (!p.fused()) {
                return cachedData;
            }
            long offset = 0;
            for (Part q : p.parts()) {
                if (q == part) {
                    float[] out = new float[Math.toIntExact(part.numel())];
                    System.arraycopy(cachedData, (int) offset, out, 0, out.length);
                    return out;
                }
                offset += q.numel();
            }
            throw new IllegalStateException(part.hfName() + " is not part of " + p.name());
        }
    }

    /** The quantisation type named on the command line (f32, f16, q8_0, q4_0). */
    public static GgmlType parseType(String s) {
        for (GgmlType t : GgmlType.values()) {
            if (t.name().toLowerCase(Locale.ROOT).equals(s)) {
                return t;
            }
        }
        throw new IllegalArgumentException("'" + s + "' (supported: f32, f16, q8_0, q4_0)");
    }
}
