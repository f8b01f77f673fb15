package dev.distill.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The config.json and generation_config.json {@link CausalLM#save} writes for a {@link ModelConfig}
 * (transformers-4 key names, which transformers 4 and 5 both read).
 */
final class HfConfigJson {
    private static final ObjectMapper JSON = new ObjectMapper();

    private HfConfigJson() {}

    static ObjectNode config(ModelConfig c) {
        Architecture arch = c.type();
        ObjectNode o = JSON.createObjectNode();
        o.putArray("architectures").add(arch.hfClassName());
        o.put("model_type", arch.modelType());
        o.put("vocab_size", c.vocabSize());
        o.put("hidden_size", c.hiddenSize());
        o.put("intermediate_size", c.intermediateSize());
        o.put("num_hidden_layers", c.numLayers());
        o.put("num_attention_heads", c.numHeads());
        o.put("num_key_value_heads", c.numKvHeads());
        o.put("head_dim", c.headDim());
        o.put("hidden_act", "silu");
        o.put("max_position_embeddings", c.maxPositionEmbeddings());
        o.put("rms_norm_eps", c.rmsNormEps());
        o.put("initializer_range", c.initializerRange());
        RopeConfig rope = c.rope();
        o.put("rope_theta", rope.theta());
        if (rope.type().equals("default")) {
            o.putNull("rope_scaling");
        } else {
            ObjectNode s = o.putObject("rope_scaling");
            s.put("rope_type", rope.type());
            s.put("factor", rope.factor());
            if (rope.type().equals("llama3")) {
                s.put("low_freq_factor", rope.lowFreqFactor());
                s.put("high_freq_factor", rope.highFreqFactor());
                s.put("original_max_position_embeddings", rope.originalMaxPositionEmbeddings());
            }
        }
        o.put("tie_word_embeddings", c.tieWordEmbeddings());
        putTokenIds(o, c);
        o.put("attention_dropout", 0.0);
        arch.falseFlags().forEach(flag -> o.put(flag, false));
        Integer window = c.slidingWindow().isPresent() ? c.slidingWindow().getAsInt() : null;
        switch (arch.slidingRule()) {
            case NONE -> {}
            case EVERY_LAYER -> putInt(o, "sliding_window", window);
            case FROM_MAX_WINDOW_LAYERS -> {
                o.put("use_sliding_window", window != null);
                putInt(o, "sliding_window", window);
                o.put("max_window_layers", c.maxWindowLayers());
                ArrayNode types = o.putArray("layer_types");
                c.layerTypes().forEach(types::add);
            }
        }
        o.put("torch_dtype", c.declaredDtype() == null ? "float32" : c.declaredDtype());
        o.put("use_cache", true);
        return o;
    }

    /** bos, eos (all of them) and pad ids. */
    static ObjectNode generationConfig(ModelConfig c) {
        ObjectNode o = JSON.createObjectNode();
        putTokenIds(o, c);
        return o;
    }

    private static void putTokenIds(ObjectNode o, ModelConfig c) {
        putInt(o, "bos_token_id", c.bosTokenId().isPresent() ? c.bosTokenId().getAsInt() : null);
        int[] eos = c.eosTokenIds();
        if (eos.length == 0) {
            o.putNull("eos_token_id");
        } else if (eos.length == 1) {
            o.put("eos_token_id", eos[0]);
        } else {
            ArrayNode a = o.putArray("eos_token_id");
            for (int id : eos) {
                a.add(id);
            }
        }
        putInt(o, "pad_token_id", c.padTokenId().isPresent() ? c.padTokenId().getAsInt() : null);
    }

    private static void putInt(ObjectNode o, String field, Integer value) {
        if (value == null) {
            o.putNull(field);
        } else {
            o.put(field, value);
        }
    }
}
