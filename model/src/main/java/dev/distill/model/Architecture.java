package dev.distill.model;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The architectures this project runs (config.json's model_type) and every fact that differs between
 * them: q/k/v biases, q/k norms, the default head_dim and context, transformers' class name, which
 * layers slide, and the architecture-specific config.json keys. Everything else is shared.
 */
public enum Architecture {
    LLAMA(
            "llama",
            "LlamaForCausalLM",
            false,
            false,
            null,
            2048,
            SlidingRule.NONE,
            List.of("attention_bias", "mlp_bias")),
    MISTRAL("mistral", "MistralForCausalLM", false, false, null, 131072, SlidingRule.EVERY_LAYER, List.of()),
    QWEN2("qwen2", "Qwen2ForCausalLM", true, false, null, 32768, SlidingRule.FROM_MAX_WINDOW_LAYERS, List.of()),
    QWEN3(
            "qwen3",
            "Qwen3ForCausalLM",
            false,
            true,
            128,
            32768,
            SlidingRule.FROM_MAX_WINDOW_LAYERS,
            List.of("attention_bias"));

    /** Which layers attend over a sliding window, as transformers 5.18 decides it. */
    public enum SlidingRule {
        /** llama: never; a sliding_window is refused, layer_types is checked and ignored. */
        NONE,
        /**
         * mistral: every layer when sliding_window is set (4096 when the key is absent, null for none);
         * layer_types is checked and ignored, as in transformers' MistralModel.
         */
        EVERY_LAYER,
        /**
         * qwen2, qwen3: a window only with use_sliding_window; an explicit layer_types wins, else layers
         * from max_window_layers on slide.
         */
        FROM_MAX_WINDOW_LAYERS
    }

    private final String modelType;
    private final String hfClassName;
    private final boolean qkvBias;
    private final boolean qkNorm;
    private final Integer defaultHeadDim;
    private final int defaultMaxPositions;
    private final SlidingRule slidingRule;
    private final List<String> falseFlags;

    Architecture(
            String modelType,
            String hfClassName,
            boolean qkvBias,
            boolean qkNorm,
            Integer defaultHeadDim,
            int defaultMaxPositions,
            SlidingRule slidingRule,
            List<String> falseFlags) {
        this.modelType = modelType;
        this.hfClassName = hfClassName;
        this.qkvBias = qkvBias;
        this.qkNorm = qkNorm;
        this.defaultHeadDim = defaultHeadDim;
        this.defaultMaxPositions = defaultMaxPositions;
        this.slidingRule = slidingRule;
        this.falseFlags = falseFlags;
    }

    /** The architecture of a config.json model_type, or empty when this project does not run it. */
    public static Optional<Architecture> ofModelType(String modelType) {
        return Arrays.stream(values())
                .filter(a -> a.modelType.equals(modelType))
                .findFirst();
    }

    /** Every supported model_type, for error messages. */
    public static List<String> modelTypes() {
        return Arrays.stream(values()).map(Architecture::modelType).toList();
    }

    /** config.json's model_type, e.g. "qwen2". */
    public String modelType() {
        return modelType;
    }

    /** transformers' class name, config.json's architectures entry, e.g. "Qwen2ForCausalLM". */
    public String hfClassName() {
        return hfClassName;
    }

    /** True when the q/k/v projections have biases (qwen2). */
    public boolean qkvBias() {
        return qkvBias;
    }

    /** True when queries and keys get a per-head RMSNorm before the rotary embedding (qwen3). */
    public boolean qkNorm() {
        return qkNorm;
    }

    /** transformers' head_dim when config.json has none: hidden / heads, but 128 for qwen3. */
    public int defaultHeadDim(int hiddenSize, int numHeads) {
        return defaultHeadDim != null ? defaultHeadDim : hiddenSize / Math.max(1, numHeads);
    }

    /** transformers' max_position_embeddings when config.json has none. */
    public int defaultMaxPositions() {
        return defaultMaxPositions;
    }

    public SlidingRule slidingRule() {
        return slidingRule;
    }

    /** True when a sliding_window may be set at all (not llama). */
    public boolean allowsWindow() {
        return slidingRule != SlidingRule.NONE;
    }

    /** True when config.json's use_sliding_window, max_window_layers and layer_types decide the layers (qwen). */
    public boolean usesLayerTypes() {
        return slidingRule == SlidingRule.FROM_MAX_WINDOW_LAYERS;
    }

    /**
     * True when a config has a window: mistral always (sliding_window, 4096 when absent), qwen only with
     * use_sliding_window true, llama never.
     */
    public boolean hasWindow(boolean useSlidingWindow) {
        return slidingRule == SlidingRule.EVERY_LAYER
                || slidingRule == SlidingRule.FROM_MAX_WINDOW_LAYERS && useSlidingWindow;
    }

    /** Whether layer {@code layer} slides when no explicit layer_types decides it. */
    public boolean slides(int layer, boolean hasWindow, int maxWindowLayers) {
        return hasWindow
                && (slidingRule == SlidingRule.EVERY_LAYER
                        || slidingRule == SlidingRule.FROM_MAX_WINDOW_LAYERS && layer >= maxWindowLayers);
    }

    /** The boolean config.json keys transformers' config of this architecture carries, always written false. */
    public List<String> falseFlags() {
        return falseFlags;
    }
}
