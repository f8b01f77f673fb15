package dev.distill.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/** Reads the fields of a config.json / generation_config.json tree, failing with file + field in the message. */
final class ConfigParser {
    private final JsonNode json;
    private final String source;

    ConfigParser(JsonNode json, String source) {
        this.json = json;
        this.source = source;
        if (json == null || !json.isObject()) {
            throw fail("not a JSON object");
        }
    }

    ModelConfig parse() {
        String typeName = requiredText("model_type");
        Architecture type = Architecture.ofModelType(typeName)
                .orElseThrow(() -> fail("model_type '" + typeName + "' is not supported (supported: "
                        + String.join(", ", Architecture.modelTypes()) + ")"));
        checkArchitectures(type);
        checkUnsupportedOptions(type);
        Integer maxPositions = optionalInt("max_position_embeddings");
        ModelConfigBuilder b = ModelConfig.builder(typeName)
                .source(source)
                .vocabSize(requiredInt("vocab_size"))
                .hiddenSize(requiredInt("hidden_size"))
                .intermediateSize(requiredInt("intermediate_size"))
                .numLayers(requiredInt("num_hidden_layers"))
                .numHeads(requiredInt("num_attention_heads"))
                .numKvHeads(optionalInt("num_key_value_heads"))
                .headDim(optionalInt("head_dim"))
                .maxPositionEmbeddings(maxPositions)
                .rmsNormEps(optionalDouble("rms_norm_eps", 1e-6))
                .tieWordEmbeddings(optionalBoolean("tie_word_embeddings", false))
                .eosTokenIds(tokenIds("eos_token_id"))
                .bosTokenId(optionalTokenId("bos_token_id"))
                .padTokenId(optionalTokenId("pad_token_id"))
                .initializerRange(optionalDouble("initializer_range", 0.02))
                .declaredDtype(
                        json.hasNonNull("dtype")
                                ? json.get("dtype").asText()
                                : json.hasNonNull("torch_dtype")
                                        ? json.get("torch_dtype").asText()
                                        : null);
        // transformers' MistralConfig, Qwen2Config and Qwen3Config default sliding_window to 4096 when the key is
        // absent; qwen models have a window only with use_sliding_window (else transformers sets it to None)
        if (type.hasWindow(optionalBoolean("use_sliding_window", false))) {
            b.slidingWindow(json.has("sliding_window") ? optionalInt("sliding_window") : Integer.valueOf(4096));
        }
        if (type.usesLayerTypes()) {
            b.maxWindowLayers(optionalInt("max_window_layers"));
        }
        b.layerTypes(layerTypes());
        b.rope(parseRope(maxPositions));
        return b.build();
    }

    private void checkArchitectures(Architecture type) {
        JsonNode archs = json.get("architectures");
        if (archs == null || archs.isNull()) {
            return;
        }
        String expected = type.hfClassName();
        if (!archs.isArray()) {
            throw fail("architectures must be a list, got " + archs);
        }
        for (JsonNode a : archs) {
            if (!a.asText().equals(expected)) {
                throw fail("architectures " + archs + " is not supported (supported: " + expected + ")");
            }
        }
    }

    private void checkUnsupportedOptions(Architecture type) {
        for (String act : List.of("hidden_act", "hidden_activation")) {
            if (json.hasNonNull(act) && !json.get(act).asText().equals("silu")) {
                throw fail(act + " '" + json.get(act).asText() + "' is not supported (supported: silu)");
            }
        }
        List<String> flags = type.usesLayerTypes()
                ? List.of("attention_bias", "mlp_bias")
                : List.of("attention_bias", "mlp_bias", "use_sliding_window");
        for (String flag : flags) {
            if (optionalBoolean(flag, false)) {
                throw fail(flag + " true is not supported for " + type.modelType());
            }
        }
        if (json.hasNonNull("partial_rotary_factor")
                && json.get("partial_rotary_factor").asDouble() != 1.0) {
            throw fail("partial_rotary_factor " + json.get("partial_rotary_factor") + " is not supported (only 1.0)");
        }
    }

    /** rope_parameters (transformers 5) or rope_scaling + rope_theta (transformers 4). */
    private RopeConfig parseRope(Integer maxPositions) {
        String field = json.hasNonNull("rope_parameters")
                ? "rope_parameters"
                : json.hasNonNull("rope_scaling") ? "rope_scaling" : null;
        double topTheta = optionalDouble("rope_theta", 10000.0);
        if (field == null) {
            return RopeConfig.plain(topTheta);
        }
        JsonNode p = json.get(field);
        if (!p.isObject()) {
            throw fail(field + " must be an object, got " + p);
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = p.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getValue().isObject()) {
                throw fail(field + "." + e.getKey() + ": rope parameters per layer type are not supported");
            }
        }
        double theta = p.hasNonNull("rope_theta") ? number(p, field, "rope_theta") : topTheta;
        String typeKey = p.hasNonNull("rope_type") ? "rope_type" : p.hasNonNull("type") ? "type" : null;
        String type = typeKey == null ? "default" : p.get(typeKey).asText();
        if (!RopeConfig.SUPPORTED.contains(type)) {
            throw fail(field + "." + typeKey + " '" + type + "' is not supported (supported: "
                    + String.join(", ", RopeConfig.SUPPORTED) + ")");
        }
        if (p.hasNonNull("partial_rotary_factor")
                && p.get("partial_rotary_factor").asDouble() != 1.0) {
            throw fail(field + ".partial_rotary_factor " + p.get("partial_rotary_factor")
                    + " is not supported (only 1.0)");
        }
        switch (type) {
            case "linear":
                return RopeConfig.linear(theta, number(p, field, "factor"));
            case "llama3":
                int original = p.hasNonNull("original_max_position_embeddings")
                        ? (int) number(p, field, "original_max_position_embeddings")
                        : maxPositions == null ? 0 : maxPositions;
                return RopeConfig.llama3(
                        theta,
                        number(p, field, "factor"),
                        number(p, field, "low_freq_factor"),
                        number(p, field, "high_freq_factor"),
                        original);
            default:
                return RopeConfig.plain(theta);
        }
    }

    private double number(JsonNode obj, String objName, String key) {
        JsonNode n = obj.get(key);
        if (n == null || n.isNull()) {
            throw fail("missing required field '" + objName + "." + key + "'");
        }
        if (!n.isNumber()) {
            throw fail(objName + "." + key + " must be a number, got " + n);
        }
        return n.asDouble();
    }

    /** layer_types: a list of strings, or null when absent (its entries are checked by the builder). */
    private List<String> layerTypes() {
        JsonNode n = json.get("layer_types");
        if (n == null || n.isNull()) {
            return null;
        }
        List<String> types = new ArrayList<>();
        if (n.isArray()) {
            n.forEach(item -> types.add(item.isTextual() ? item.asText() : null));
        }
        if (!n.isArray() || types.contains(null)) {
            throw fail("layer_types must be a list of strings, got " + n);
        }
        return types;
    }

    /** An int or a list of ints (empty when absent or null). */
    int[] tokenIds(String field) {
        JsonNode n = json.get(field);
        if (n == null || n.isNull()) {
            return new int[0];
        }
        List<JsonNode> items = new ArrayList<>();
        if (n.isArray()) {
            n.forEach(items::add);
        } else {
            items.add(n);
        }
        int[] ids = new int[items.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode item = items.get(i);
            if (!item.isIntegralNumber() || !item.canConvertToInt()) {
                throw fail(field + " must be an integer or a list of integers, got " + n);
            }
            ids[i] = item.asInt();
        }
        return ids;
    }

    Integer optionalTokenId(String field) {
        JsonNode n = json.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
            throw fail(field + " must be an integer, got " + n);
        }
        return n.asInt();
    }

    private String requiredText(String field) {
        JsonNode n = json.get(field);
        if (n == null || n.isNull()) {
            throw fail("missing required field '" + field + "'");
        }
        if (!n.isTextual()) {
            throw fail(field + " must be a string, got " + n);
        }
        return n.asText();
    }

    private int requiredInt(String field) {
        Integer v = optionalInt(field);
        if (v == null) {
            throw fail("missing required field '" + field + "'");
        }
        return v;
    }

    private Integer optionalInt(String field) {
        JsonNode n = json.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
            throw fail(field + " must be an integer, got " + n);
        }
        return n.asInt();
    }

    private double optionalDouble(String field, double dflt) {
        JsonNode n = json.get(field);
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isNumber()) {
            throw fail(field + " must be a number, got " + n);
        }
        return n.asDouble();
    }

    private boolean optionalBoolean(String field, boolean dflt) {
        JsonNode n = json.get(field);
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isBoolean()) {
            throw fail(field + " must be true or false, got " + n);
        }
        return n.asBoolean();
    }

    private ModelFormatException fail(String what) {
        return new ModelFormatException(source + ": " + what);
    }
}
