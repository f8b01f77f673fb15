package dev.distill.model;

import java.util.List;

/** Mutable values for a {@link ModelConfig} with transformers' defaults; {@link #build} validates them. */
public final class ModelConfigBuilder {
    final String modelType;
    private String source = "config";
    int vocabSize;
    int hiddenSize;
    int intermediateSize;
    int numLayers;
    int numHeads;
    Integer numKvHeads;
    Integer headDim;
    Integer maxPositionEmbeddings;
    double rmsNormEps = 1e-6;
    RopeConfig rope = RopeConfig.plain(10000.0);
    boolean tieWordEmbeddings;
    int[] eosTokenIds = new int[0];
    Integer bosTokenId;
    Integer padTokenId;
    double initializerRange = 0.02;
    Integer slidingWindow;
    Integer maxWindowLayers;
    List<String> layerTypes;
    String declaredDtype;

    ModelConfigBuilder(String modelType) {
        this.modelType = modelType;
    }

    /** Name used at the start of validation errors (the config file's path when parsing one). */
    public ModelConfigBuilder source(String v) {
        source = v;
        return this;
    }

    public ModelConfigBuilder vocabSize(int v) {
        vocabSize = v;
        return this;
    }

    public ModelConfigBuilder hiddenSize(int v) {
        hiddenSize = v;
        return this;
    }

    public ModelConfigBuilder intermediateSize(int v) {
        intermediateSize = v;
        return this;
    }

    public ModelConfigBuilder numLayers(int v) {
        numLayers = v;
        return this;
    }

    public ModelConfigBuilder numHeads(int v) {
        numHeads = v;
        return this;
    }

    /** Defaults to the number of attention heads. */
    public ModelConfigBuilder numKvHeads(Integer v) {
        numKvHeads = v;
        return this;
    }

    /** Defaults to hidden / heads (128 for qwen3, as transformers). */
    public ModelConfigBuilder headDim(Integer v) {
        headDim = v;
        return this;
    }

    public ModelConfigBuilder maxPositionEmbeddings(Integer v) {
        maxPositionEmbeddings = v;
        return this;
    }

    public ModelConfigBuilder rmsNormEps(double v) {
        rmsNormEps = v;
        return this;
    }

    public ModelConfigBuilder rope(RopeConfig v) {
        rope = v;
        return this;
    }

    public ModelConfigBuilder tieWordEmbeddings(boolean v) {
        tieWordEmbeddings = v;
        return this;
    }

    public ModelConfigBuilder eosTokenIds(int... v) {
        eosTokenIds = v.clone();
        return this;
    }

    public ModelConfigBuilder bosTokenId(Integer v) {
        bosTokenId = v;
        return this;
    }

    public ModelConfigBuilder padTokenId(Integer v) {
        padTokenId = v;
        return this;
    }

    public ModelConfigBuilder initializerRange(double v) {
        initializerRange = v;
        return this;
    }

    /**
     * The attention window of the sliding layers (null for none; not for llama). Mistral slides on
     * every layer when it has one; for qwen2/qwen3 this is sliding_window when use_sliding_window
     * is true.
     */
    public ModelConfigBuilder slidingWindow(Integer v) {
        slidingWindow = v;
        return this;
    }

    /** qwen2/qwen3: without layer_types, layers from this index on slide (null: 28, as transformers). */
    public ModelConfigBuilder maxWindowLayers(Integer v) {
        maxWindowLayers = v;
        return this;
    }

    /**
     * An explicit layer_types list, one {@link ModelConfig#FULL_ATTENTION} or {@link ModelConfig#SLIDING_ATTENTION} per
     * layer (null: derived). qwen2/qwen3 use it; llama and mistral, like transformers, check it and
     * ignore it.
     */
    public ModelConfigBuilder layerTypes(List<String> v) {
        layerTypes = v == null ? null : List.copyOf(v);
        return this;
    }

    /** The dtype name config.json declares ("float32", "bfloat16", ...). */
    public ModelConfigBuilder declaredDtype(String v) {
        declaredDtype = v;
        return this;
    }

    /** Validates and builds; errors start with the source name and name the field. */
    public ModelConfig build() {
        Architecture arch = Architecture.ofModelType(modelType)
                .orElseThrow(() -> fail("model_type '" + modelType + "' is not supported (supported: "
                        + String.join(", ", Architecture.modelTypes()) + ")"));
        positive("vocab_size", vocabSize);
        positive("hidden_size", hiddenSize);
        positive("intermediate_size", intermediateSize);
        positive("num_hidden_layers", numLayers);
        positive("num_attention_heads", numHeads);
        ModelConfig c = new ModelConfig(this, arch);
        positive("num_key_value_heads", c.numKvHeads());
        positive("head_dim", c.headDim());
        positive("max_position_embeddings", c.maxPositionEmbeddings());
        if (c.numHeads() % c.numKvHeads() != 0) {
            throw fail("num_attention_heads " + c.numHeads() + " is not a multiple of num_key_value_heads "
                    + c.numKvHeads());
        }
        if (c.headDim() % 2 != 0) {
            throw fail("head_dim " + c.headDim() + " must be even for rotary embeddings");
        }
        if (!(rmsNormEps > 0)) {
            throw fail("rms_norm_eps must be positive, got " + rmsNormEps);
        }
        if (!(rope.theta() > 0)) {
            throw fail("rope_theta must be positive, got " + rope.theta());
        }
        if (!RopeConfig.SUPPORTED.contains(rope.type())) {
            throw fail("rope type '" + rope.type() + "' is not supported (supported: "
                    + String.join(", ", RopeConfig.SUPPORTED) + ")");
        }
        if (!rope.type().equals("default") && !(rope.factor() > 0)) {
            throw fail("rope factor must be positive, got " + rope.factor());
        }
        if (rope.type().equals("llama3")
                && !(rope.highFreqFactor() > rope.lowFreqFactor()
                        && rope.lowFreqFactor() > 0
                        && rope.originalMaxPositionEmbeddings() > 0)) {
            throw fail("llama3 rope needs high_freq_factor > low_freq_factor > 0 and "
                    + "original_max_position_embeddings > 0, got " + rope);
        }
        if (slidingWindow != null && !arch.allowsWindow()) {
            throw fail("sliding_window is not supported for " + modelType);
        }
        if (slidingWindow != null) {
            positive("sliding_window", slidingWindow);
        }
        checkLayerTypes(c);
        for (int id : c.eosTokenIds()) {
            if (id < 0) {
                throw fail("eos_token_id " + id + " is negative");
            }
        }
        return c;
    }

    private void checkLayerTypes(ModelConfig c) {
        if (layerTypes == null) {
            return;
        }
        for (int i = 0; i < layerTypes.size(); i++) {
            if (!ModelConfig.LAYER_TYPES.contains(layerTypes.get(i))) {
                throw fail("layer_types[" + i + "] '" + layerTypes.get(i) + "' is not supported (supported: "
                        + String.join(", ", ModelConfig.LAYER_TYPES) + ")");
            }
        }
        if (layerTypes.size() != numLayers) {
            throw fail("layer_types has " + layerTypes.size() + " entries, num_hidden_layers is " + numLayers);
        }
        int sliding = c.layerTypes().indexOf(ModelConfig.SLIDING_ATTENTION);
        if (sliding >= 0 && slidingWindow == null) {
            throw fail("layer_types[" + sliding + "] is '" + ModelConfig.SLIDING_ATTENTION
                    + "' but there is no sliding " + "window (use_sliding_window false or sliding_window null)");
        }
    }

    private void positive(String field, int v) {
        if (v <= 0) {
            throw fail(field + " must be a positive integer, got " + v);
        }
    }

    private ModelFormatException fail(String what) {
        return new ModelFormatException(source + ": " + what);
    }
}
