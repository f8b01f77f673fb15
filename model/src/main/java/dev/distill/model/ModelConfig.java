package dev.distill.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
    /** A layer_types entry: causal attention over every earlier position. */
    public static final String FULL_ATTENTION = "full_attention";
    /** A layer_types entry: causal attention over the last {@link #slidingWindow} positions only. */
    public static final String SLIDING_ATTENTION = "sliding_attention";
    /** The layer_types entries this project runs. */
    public static final List<String> LAYER_TYPES = List.of(FULL_ATTENTION, SLIDING_ATTENTION);
    /** transformers' Qwen2Config / Qwen3Config default: layers from this index on slide. */
    static final int DEFAULT_MAX_WINDOW_LAYERS = 28;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Architecture type;
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

    ModelConfig(ModelConfigBuilder b, Architecture type) {
        this.type = type;
        vocabSize = b.vocabSize;
        hiddenSize = b.hiddenSize;
        intermediateSize = b.intermediateSize;
        numLayers = b.numLayers;
        numHeads = b.numHeads;
        numKvHeads = b.numKvHeads == null ? b.numHeads : b.numKvHeads;
        headDim = b.headDim == null ? type.defaultHeadDim(b.hiddenSize, b.numHeads) : b.headDim;
        maxPositionEmbeddings = b.maxPositionEmbeddings == null ? type.defaultMaxPositions() : b.maxPositionEmbeddings;
        rmsNormEps = b.rmsNormEps;
        rope = b.rope;
        tieWordEmbeddings = b.tieWordEmbeddings;
        eosTokenIds = b.eosTokenIds.clone();
        bosTokenId = b.bosTokenId;
        padTokenId = b.padTokenId;
        initializerRange = b.initializerRange;
        slidingWindow = b.slidingWindow;
        maxWindowLayers = b.maxWindowLayers == null ? DEFAULT_MAX_WINDOW_LAYERS : b.maxWindowLayers;
        derivedLayerTypes = deriveLayerTypes(type, b.numLayers, slidingWindow != null, maxWindowLayers);
        // an explicit list is kept only where it is used (qwen) and says something max_window_layers does not
        explicitLayerTypes = b.layerTypes == null || !type.usesLayerTypes() || b.layerTypes.equals(derivedLayerTypes)
                ? null
                : b.layerTypes;
        declaredDtype = b.declaredDtype;
    }

    /** The layer types transformers 5.18 gives a config without layer_types ({@link Architecture#slides}). */
    private static List<String> deriveLayerTypes(
            Architecture type, int layers, boolean hasWindow, int maxWindowLayers) {
        List<String> types = new ArrayList<>();
        for (int i = 0; i < layers; i++) {
            types.add(type.slides(i, hasWindow, maxWindowLayers) ? SLIDING_ATTENTION : FULL_ATTENTION);
        }
        return Collections.unmodifiableList(types);
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
        return Files.isRegularFile(genPath)
                ? config.withGenerationConfig(readJson(genPath), genPath.toString())
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
        ModelConfigBuilder b =
                toBuilder().eosTokenIds(eos.stream().mapToInt(Integer::intValue).toArray());
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
    public static ModelConfigBuilder builder(String modelType) {
        return new ModelConfigBuilder(modelType);
    }

    /** A builder holding this config's values. */
    public ModelConfigBuilder toBuilder() {
        ModelConfigBuilder b = new ModelConfigBuilder(type.modelType());
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

    /** config.json's model_type, e.g. "llama". */
    public String modelType() {
        return type.modelType();
    }

    /** The architecture and its per-architecture facts. */
    public Architecture type() {
        return type;
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
        return type.qkvBias();
    }

    /** True for qwen3: per-head RMSNorm on queries and keys before the rotary embedding. */
    public boolean qkNorm() {
        return type.qkNorm();
    }

    /** transformers' class name for this model type, e.g. "LlamaForCausalLM". */
    public String architecture() {
        return type.hfClassName();
    }

    /** Number of distinct parameters (tied embeddings counted once). */
    public long parameterCount() {
        long h = hiddenSize;
        long qkvRows = (long) (numHeads + 2 * numKvHeads) * headDim;
        long perLayer = 2 * h
                + qkvRows * h
                + (qkvBias() ? qkvRows : 0)
                + (qkNorm() ? 2L * headDim : 0)
                + (long) numHeads * headDim * h
                + 3 * h * intermediateSize;
        long embeddings = (long) vocabSize * h * (tieWordEmbeddings ? 1 : 2);
        return embeddings + numLayers * perLayer + h;
    }

    /** The config.json {@code save} writes (transformers-4 key names, which transformers 4 and 5 both read). */
    public ObjectNode toHfJson() {
        return HfConfigJson.config(this);
    }

    /** The generation_config.json {@code save} writes: bos, eos (all of them) and pad ids. */
    public ObjectNode toGenerationConfigJson() {
        return HfConfigJson.generationConfig(this);
    }

    @Override
    public String toString() {
        return String.format(
                Locale.ROOT,
                "%s(vocab=%d, hidden=%d, intermediate=%d, layers=%d, heads=%d/%d, "
                        + "head_dim=%d, rope=%s, tied=%b, params=%d)",
                type.modelType(),
                vocabSize,
                hiddenSize,
                intermediateSize,
                numLayers,
                numHeads,
                numKvHeads,
                headDim,
                rope.type(),
                tieWordEmbeddings,
                parameterCount());
    }
}
