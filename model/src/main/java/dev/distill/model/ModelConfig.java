package dev.distill.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.OptionalInt;
import java.util.Set;

/**
 * A decoder-only model's architecture, parsed and validated from a Hugging Face config.json (and
 * generation_config.json, whose eos ids are merged in). Reads both transformers-4 configs
 * (rope_theta, rope_scaling, torch_dtype) and transformers-5 configs (rope_parameters, dtype).
 * Immutable; {@link #builder} and {@link #toBuilder} make new ones.
 */
public final class ModelConfig {
    /** The model_type values this project runs. */
    public static final List<String> SUPPORTED_TYPES = List.of("llama", "mistral", "qwen2", "qwen3");
    /** A layer_types entry: causal attention over every earlier position. */
    public static final String FULL_ATTENTION = "full_attention";
    /** A layer_types entry: causal attention over the last {@link #slidingWindow} positions only. */
    public static final String SLIDING_ATTENTION = "sliding_attention";
    /** The layer_types entries this project runs. */
    public static final List<String> LAYER_TYPES = List.of(FULL_ATTENTION, SLIDING_ATTENTION);
    /** transformers' Qwen2Config / Qwen3Config default: layers from this index on slide. */
    static final int DEFAULT_MAX_WINDOW_LAYERS = 28;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String modelType;
    private final int vocabSize;
    private final int hiddenSize;
    private final int intermediateSize;
    private final int numLayers;
    private final int numHeads;
    private final int numKvHeads;
    private final int headDim;
    private final int maxPositionEmbeddings;
    private final double rmsNormEps;
    private final RopeConfig rope;
    private final boolean tieWordEmbeddings;
    private final int[] eosTokenIds;
    private final Integer bosTokenId;
    private final Integer padTokenId;
    private final double initializerRange;
    private final Integer slidingWindow;
    private final int maxWindowLayers;
    private final List<String> derivedLayerTypes;
    private final List<String> explicitLayerTypes;
    private final String declaredDtype;

    private ModelConfig(Builder b) {
        modelType = b.modelType;
        vocabSize = b.vocabSize;
        hiddenSize = b.hiddenSize;
        intermediateSize = b.intermediateSize;
        numLayers = b.numLayers;
        numHeads = b.numHeads;
        numKvHeads = b.numKvHeads == null ? b.numHeads : b.numKvHeads;
        headDim = b.headDim == null ? defaultHeadDim(b) : b.headDim;
        maxPositionEmbeddings = b.maxPositionEmbeddings == null ? defaultMaxPositions(b.modelType)
                : b.maxPositionEmbeddings;
        rmsNormEps = b.rmsNormEps;
        rope = b.rope;
        tieWordEmbeddings = b.tieWordEmbeddings;
        eosTokenIds = b.eosTokenIds.clone();
        bosTokenId = b.bosTokenId;
        padTokenId = b.padTokenId;
        initializerRange = b.initializerRange;
        slidingWindow = b.slidingWindow;
        maxWindowLayers = b.maxWindowLayers == null ? DEFAULT_MAX_WINDOW_LAYERS : b.maxWindowLayers;
        derivedLayerTypes = deriveLayerTypes(b.modelType, b.numLayers, slidingWindow, maxWindowLayers);
        // an explicit list is kept only where it is used (qwen) and says something max_window_layers does not
        explicitLayerTypes = b.layerTypes == null || !isQwen(b.modelType) || b.layerTypes.equals(derivedLayerTypes)
                ? null : b.layerTypes;
        declaredDtype = b.declaredDtype;
    }

    /**
     * The layer types transformers 5.18 gives a config without layer_types: mistral slides on every
     * layer when it has a window; qwen2/qwen3 slide from layer max_window_layers on when they have one
     * (use_sliding_window); llama never slides.
     */
    private static List<String> deriveLayerTypes(String modelType, int layers, Integer window, int maxWindowLayers) {
        List<String> types = new ArrayList<>();
        for (int i = 0; i < layers; i++) {
            boolean sliding = window != null && (modelType.equals("mistral")
                    || isQwen(modelType) && i >= maxWindowLayers);
            types.add(sliding ? SLIDING_ATTENTION : FULL_ATTENTION);
        }
        return Collections.unmodifiableList(types);
    }

    /** qwen2 and qwen3: sliding windows from use_sliding_window, max_window_layers and layer_types. */
    static boolean isQwen(String modelType) {
        return modelType.equals("qwen2") || modelType.equals("qwen3");
    }

    /** Reads {@code modelDir/config.json} and, when present, {@code modelDir/generation_config.json}. */
    public static ModelConfig load(Path modelDir) {
        if (!Files.isDirectory(modelDir)) {
            throw new ModelFormatException(modelDir + ": not a directory");
        }
        Path configPath = modelDir.resolve("config.json");
        if (!Files.isRegularFile(configPath)) {
            throw new ModelFormatException(modelDir + ": no config.json");
        }
        ModelConfig config = fromJson(readJson(configPath), configPath.toString());
        Path genPath = modelDir.resolve("generation_config.json");
        return Files.isRegularFile(genPath) ? config.withGenerationConfig(readJson(genPath), genPath.toString())
                : config;
    }

    /** Parses a config.json tree; {@code sourceName} starts every error message. */
    public static ModelConfig fromJson(JsonNode json, String sourceName) {
        return new ConfigParser(json, sourceName).parse();
    }

    /**
     * This config with a generation_config.json merged in: its eos ids are added to the eos set, and
     * its bos/pad ids fill in ids config.json lacks.
     */
    public ModelConfig withGenerationConfig(JsonNode gen, String sourceName) {
        ConfigParser p = new ConfigParser(gen, sourceName);
        Set<Integer> eos = new LinkedHashSet<>();
        Arrays.stream(eosTokenIds).forEach(eos::add);
        Arrays.stream(p.tokenIds("eos_token_id")).forEach(eos::add);
        Builder b = toBuilder().eosTokenIds(eos.stream().mapToInt(Integer::intValue).toArray());
        if (bosTokenId == null) {
            b.bosTokenId(p.optionalTokenId("bos_token_id"));
        }
        if (padTokenId == null) {
            b.padTokenId(p.optionalTokenId("pad_token_id"));
        }
        return b.build();
    }

    static JsonNode readJson(Path path) {
        try {
            return JSON.readTree(path.toFile());
        } catch (IOException e) {
            throw new ModelFormatException(path + ": not valid JSON: " + e.getMessage(), e);
        }
    }

    /** A builder for {@code modelType} ("llama", "mistral", "qwen2" or "qwen3") with transformers' defaults. */
    public static Builder builder(String modelType) {
        return new Builder(modelType);
    }

    /** A builder holding this config's values. */
    public Builder toBuilder() {
        Builder b = new Builder(modelType);
        b.vocabSize = vocabSize;
        b.hiddenSize = hiddenSize;
        b.intermediateSize = intermediateSize;
        b.numLayers = numLayers;
        b.numHeads = numHeads;
        b.numKvHeads = numKvHeads;
        b.headDim = headDim;
        b.maxPositionEmbeddings = maxPositionEmbeddings;
        b.rmsNormEps = rmsNormEps;
        b.rope = rope;
        b.tieWordEmbeddings = tieWordEmbeddings;
        b.eosTokenIds = eosTokenIds.clone();
        b.bosTokenId = bosTokenId;
        b.padTokenId = padTokenId;
        b.initializerRange = initializerRange;
        b.slidingWindow = slidingWindow;
        b.maxWindowLayers = maxWindowLayers;
        b.layerTypes = explicitLayerTypes;
        b.declaredDtype = declaredDtype;
        return b;
    }

    public String modelType() {
        return modelType;
    }

    public int vocabSize() {
        return vocabSize;
    }

    public int hiddenSize() {
        return hiddenSize;
    }

    public int intermediateSize() {
        return intermediateSize;
    }

    public int numLayers() {
        return numLayers;
    }

    public int numHeads() {
        return numHeads;
    }

    public int numKvHeads() {
        return numKvHeads;
    }

    public int headDim() {
        return headDim;
    }

    public int maxPositionEmbeddings() {
        return maxPositionEmbeddings;
    }

    public double rmsNormEps() {
        return rmsNormEps;
    }

    public RopeConfig rope() {
        return rope;
    }

    public boolean tieWordEmbeddings() {
        return tieWordEmbeddings;
    }

    /** Every id that ends a sequence (config.json's and generation_config.json's), in order of appearance. */
    public int[] eosTokenIds() {
        return eosTokenIds.clone();
    }

    public OptionalInt bosTokenId() {
        return bosTokenId == null ? OptionalInt.empty() : OptionalInt.of(bosTokenId);
    }

    public OptionalInt padTokenId() {
        return padTokenId == null ? OptionalInt.empty() : OptionalInt.of(padTokenId);
    }

    public double initializerRange() {
        return initializerRange;
    }

    /**
     * The attention window W of the sliding layers (a query sees itself and the W - 1 positions before
     * it), when the config has one: mistral's sliding_window, or qwen2/qwen3's when use_sliding_window
     * is true. Empty for llama and for configs without a window.
     */
    public OptionalInt slidingWindow() {
        return slidingWindow == null ? OptionalInt.empty() : OptionalInt.of(slidingWindow);
    }

    /**
     * Each layer's attention, {@link #FULL_ATTENTION} or {@link #SLIDING_ATTENTION}, as transformers
     * 5.18 decides it: qwen2/qwen3 from an explicit layer_types or else from max_window_layers, mistral
     * from sliding_window alone (every layer), llama always full.
     */
    public List<String> layerTypes() {
        return explicitLayerTypes == null ? derivedLayerTypes : explicitLayerTypes;
    }

    /** True when layer {@code layer} attends over the sliding window only. */
    public boolean slidingLayer(int layer) {
        return layerTypes().get(layer).equals(SLIDING_ATTENTION);
    }

    /** qwen2/qwen3: without an explicit layer_types, layers from this index on slide (default 28). */
    public int maxWindowLayers() {
        return maxWindowLayers;
    }

    /** The dtype config.json declares for its weights ("bfloat16", ...), or null. Informational only. */
    public String declaredDtype() {
        return declaredDtype;
    }

    /** True for qwen2: q/k/v projections have biases. */
    public boolean qkvBias() {
        return modelType.equals("qwen2");
    }

    /** True for qwen3: per-head RMSNorm on queries and keys before the rotary embedding. */
    public boolean qkNorm() {
        return modelType.equals("qwen3");
    }

    /** transformers' class name for this model type, e.g. "LlamaForCausalLM". */
    public String architecture() {
        return architectureOf(modelType);
    }

    static String architectureOf(String modelType) {
        switch (modelType) {
            case "qwen2":
                return "Qwen2ForCausalLM";
            case "qwen3":
                return "Qwen3ForCausalLM";
            default:
                return Character.toUpperCase(modelType.charAt(0)) + modelType.substring(1) + "ForCausalLM";
        }
    }

    /** Number of distinct parameters (tied embeddings counted once). */
    public long parameterCount() {
        long h = hiddenSize;
        long qkvRows = (long) (numHeads + 2 * numKvHeads) * headDim;
        long perLayer = 2 * h + qkvRows * h + (qkvBias() ? qkvRows : 0) + (qkNorm() ? 2L * headDim : 0)
                + (long) numHeads * headDim * h + 3 * h * intermediateSize;
        long embeddings = (long) vocabSize * h * (tieWordEmbeddings ? 1 : 2);
        return embeddings + numLayers * perLayer + h;
    }

    /** The config.json {@code save} writes (transformers-4 key names, which transformers 4 and 5 both read). */
    public ObjectNode toHfJson() {
        ObjectNode o = JSON.createObjectNode();
        o.putArray("architectures").add(architecture());
        o.put("model_type", modelType);
        o.put("vocab_size", vocabSize);
        o.put("hidden_size", hiddenSize);
        o.put("intermediate_size", intermediateSize);
        o.put("num_hidden_layers", numLayers);
        o.put("num_attention_heads", numHeads);
        o.put("num_key_value_heads", numKvHeads);
        o.put("head_dim", headDim);
        o.put("hidden_act", "silu");
        o.put("max_position_embeddings", maxPositionEmbeddings);
        o.put("rms_norm_eps", rmsNormEps);
        o.put("initializer_range", initializerRange);
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
        o.put("tie_word_embeddings", tieWordEmbeddings);
        putTokenId(o, "bos_token_id", bosTokenId);
        putEos(o);
        putTokenId(o, "pad_token_id", padTokenId);
        o.put("attention_dropout", 0.0);
        switch (modelType) {
            case "llama":
                o.put("attention_bias", false);
                o.put("mlp_bias", false);
                break;
            case "mistral":
                putTokenId(o, "sliding_window", slidingWindow);
                break;
            default:
                if (modelType.equals("qwen3")) {
                    o.put("attention_bias", false);
                }
                o.put("use_sliding_window", slidingWindow != null);
                putTokenId(o, "sliding_window", slidingWindow);
                o.put("max_window_layers", maxWindowLayers);
                ArrayNode types = o.putArray("layer_types");
                layerTypes().forEach(types::add);
                break;
        }
        o.put("torch_dtype", declaredDtype == null ? "float32" : declaredDtype);
        o.put("use_cache", true);
        return o;
    }

    /** The generation_config.json {@code save} writes: bos, eos (all of them) and pad ids. */
    public ObjectNode toGenerationConfigJson() {
        ObjectNode o = JSON.createObjectNode();
        putTokenId(o, "bos_token_id", bosTokenId);
        putEos(o);
        putTokenId(o, "pad_token_id", padTokenId);
        return o;
    }

    private void putEos(ObjectNode o) {
        if (eosTokenIds.length == 0) {
            o.putNull("eos_token_id");
        } else if (eosTokenIds.length == 1) {
            o.put("eos_token_id", eosTokenIds[0]);
        } else {
            ArrayNode a = o.putArray("eos_token_id");
            Arrays.stream(eosTokenIds).forEach(a::add);
        }
    }

    private static void putTokenId(ObjectNode o, String field, Integer value) {
        if (value == null) {
            o.putNull(field);
        } else {
            o.put(field, value);
        }
    }

    private static int defaultHeadDim(Builder b) {
        return b.modelType.equals("qwen3") ? 128 : b.hiddenSize / Math.max(1, b.numHeads);
    }

    private static int defaultMaxPositions(String modelType) {
        switch (modelType) {
            case "llama":
                return 2048;
            case "mistral":
                return 131072;
            default:
                return 32768;
        }
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%s(vocab=%d, hidden=%d, intermediate=%d, layers=%d, heads=%d/%d, "
                + "head_dim=%d, rope=%s, tied=%b, params=%d)", modelType, vocabSize, hiddenSize, intermediateSize,
                numLayers, numHeads, numKvHeads, headDim, rope.type(), tieWordEmbeddings, parameterCount());
    }

    /** Mutable values for a {@link ModelConfig}; {@link #build} validates them. */
    public static final class Builder {
        private final String modelType;
        private String source = "config";
        private int vocabSize;
        private int hiddenSize;
        private int intermediateSize;
        private int numLayers;
        private int numHeads;
        private Integer numKvHeads;
        private Integer headDim;
        private Integer maxPositionEmbeddings;
        private double rmsNormEps = 1e-6;
        private RopeConfig rope = RopeConfig.plain(10000.0);
        private boolean tieWordEmbeddings;
        private int[] eosTokenIds = new int[0];
        private Integer bosTokenId;
        private Integer padTokenId;
        private double initializerRange = 0.02;
        private Integer slidingWindow;
        private Integer maxWindowLayers;
        private List<String> layerTypes;
        private String declaredDtype;

        private Builder(String modelType) {
            this.modelType = modelType;
        }

        /** Name used at the start of validation errors (the config file's path when parsing one). */
        public Builder source(String v) {
            source = v;
            return this;
        }

        public Builder vocabSize(int v) {
            vocabSize = v;
            return this;
        }

        public Builder hiddenSize(int v) {
            hiddenSize = v;
            return this;
        }

        public Builder intermediateSize(int v) {
            intermediateSize = v;
            return this;
        }

        public Builder numLayers(int v) {
            numLayers = v;
            return this;
        }

        public Builder numHeads(int v) {
            numHeads = v;
            return this;
        }

        /** Defaults to the number of attention heads. */
        public Builder numKvHeads(Integer v) {
            numKvHeads = v;
            return this;
        }

        /** Defaults to hidden / heads (128 for qwen3, as transformers). */
        public Builder headDim(Integer v) {
            headDim = v;
            return this;
        }

        public Builder maxPositionEmbeddings(Integer v) {
            maxPositionEmbeddings = v;
            return this;
        }

        public Builder rmsNormEps(double v) {
            rmsNormEps = v;
            return this;
        }

        public Builder rope(RopeConfig v) {
            rope = v;
            return this;
        }

        public Builder tieWordEmbeddings(boolean v) {
            tieWordEmbeddings = v;
            return this;
        }

        public Builder eosTokenIds(int... v) {
            eosTokenIds = v.clone();
            return this;
        }

        public Builder bosTokenId(Integer v) {
            bosTokenId = v;
            return this;
        }

        public Builder padTokenId(Integer v) {
            padTokenId = v;
            return this;
        }

        public Builder initializerRange(double v) {
            initializerRange = v;
            return this;
        }

        /**
         * The attention window of the sliding layers (null for none; not for llama). Mistral slides on
         * every layer when it has one; for qwen2/qwen3 this is sliding_window when use_sliding_window
         * is true.
         */
        public Builder slidingWindow(Integer v) {
            slidingWindow = v;
            return this;
        }

        /** qwen2/qwen3: without layer_types, layers from this index on slide (null: 28, as transformers). */
        public Builder maxWindowLayers(Integer v) {
            maxWindowLayers = v;
            return this;
        }

        /**
         * An explicit layer_types list, one {@link #FULL_ATTENTION} or {@link #SLIDING_ATTENTION} per
         * layer (null: derived). qwen2/qwen3 use it; llama and mistral, like transformers, check it and
         * ignore it.
         */
        public Builder layerTypes(List<String> v) {
            layerTypes = v == null ? null : List.copyOf(v);
            return this;
        }

        /** The dtype name config.json declares ("float32", "bfloat16", ...). */
        public Builder declaredDtype(String v) {
            declaredDtype = v;
            return this;
        }

        /** Validates and builds; errors start with the source name and name the field. */
        public ModelConfig build() {
            if (!SUPPORTED_TYPES.contains(modelType)) {
                throw fail("model_type '" + modelType + "' is not supported (supported: "
                        + String.join(", ", SUPPORTED_TYPES) + ")");
            }
            positive("vocab_size", vocabSize);
            positive("hidden_size", hiddenSize);
            positive("intermediate_size", intermediateSize);
            positive("num_hidden_layers", numLayers);
            positive("num_attention_heads", numHeads);
            ModelConfig c = new ModelConfig(this);
            positive("num_key_value_heads", c.numKvHeads);
            positive("head_dim", c.headDim);
            positive("max_position_embeddings", c.maxPositionEmbeddings);
            if (c.numHeads % c.numKvHeads != 0) {
                throw fail("num_attention_heads " + c.numHeads + " is not a multiple of num_key_value_heads "
                        + c.numKvHeads);
            }
            if (c.headDim % 2 != 0) {
                throw fail("head_dim " + c.headDim + " must be even for rotary embeddings");
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
            if (rope.type().equals("llama3") && !(rope.highFreqFactor() > rope.lowFreqFactor()
                    && rope.lowFreqFactor() > 0 && rope.originalMaxPositionEmbeddings() > 0)) {
                throw fail("llama3 rope needs high_freq_factor > low_freq_factor > 0 and "
                        + "original_max_position_embeddings > 0, got " + rope);
            }
            if (slidingWindow != null && modelType.equals("llama")) {
                throw fail("sliding_window is not supported for llama");
            }
            if (slidingWindow != null) {
                positive("sliding_window", slidingWindow);
            }
            checkLayerTypes(c);
            for (int id : c.eosTokenIds) {
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
                if (!LAYER_TYPES.contains(layerTypes.get(i))) {
                    throw fail("layer_types[" + i + "] '" + layerTypes.get(i) + "' is not supported (supported: "
                            + String.join(", ", LAYER_TYPES) + ")");
                }
            }
            if (layerTypes.size() != numLayers) {
                throw fail("layer_types has " + layerTypes.size() + " entries, num_hidden_layers is " + numLayers);
            }
            int sliding = c.layerTypes().indexOf(SLIDING_ATTENTION);
            if (sliding >= 0 && slidingWindow == null) {
                throw fail("layer_types[" + sliding + "] is '" + SLIDING_ATTENTION + "' but there is no sliding "
                        + "window (use_sliding_window false or sliding_window null)");
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
}
