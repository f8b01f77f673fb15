package dev.distill.tokenizer;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Extra chat template variables, as transformers' {@code apply_chat_template(..., **kwargs)} and vLLM's
 * {@code chat_template_kwargs} pass them (e.g. Qwen3's {@code enable_thinking}): parsed from a JSON object into
 * the template engine's values, and refused when they would replace a variable the renderer sets itself.
 */
public final class TemplateKwargs {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> RENDERER_VARIABLES = List.of("messages", "add_generation_prompt");

    private TemplateKwargs() {}

    /**
     * The members of a JSON object as template values, in their order: booleans, {@code Long} integers, {@code Double}
     * floats, strings, {@code null}, lists and maps (Python's {@code json.loads} types).
     *
     * @throws IllegalArgumentException on invalid JSON (with line and column), a value that is not an object, an
     *     integer beyond 64 bits or a number beyond the double range
     */
    public static Map<String, Object> parse(String json) {
        JsonNode node;
        try (JsonParser parser = JSON.createParser(json)) {
            node = JSON.readTree(parser);
            if (node != null && parser.nextToken() != null) {
                throw new IllegalArgumentException(
                        "invalid JSON" + where(parser.currentTokenLocation()) + ": more text after the first value");
            }
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(
                    "invalid JSON" + where(e.getLocation()) + ": " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // reading a String does no I/O
        }
        if (node == null || node.isMissingNode()) {
            throw new IllegalArgumentException(
                    "invalid JSON: the text is empty; expected an object such as {\"enable_thinking\": false}");
        }
        if (!node.isObject()) {
            throw new IllegalArgumentException(
                    "expected a JSON object of template variables, such as {\"enable_thinking\": false}," + " got "
                            + kind(node) + " " + node);
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> values = (Map<String, Object>) value(node, "");
        return Collections.unmodifiableMap(values);
    }

    private static String where(JsonLocation at) {
        return at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
    }

    private static String kind(JsonNode node) {
        switch (node.getNodeType()) {
            case ARRAY:
                return "an array";
            case STRING:
                return "a string";
            case NUMBER:
                return "a number";
            case BOOLEAN:
                return "a boolean";
            default:
                return "null";
        }
    }

    /** {@code node} as a template value; {@code path} (e.g. {@code a.b[2]}) names it in errors. */
    private static Object value(JsonNode node, String path) {
        if (node.isObject()) {
            Map<String, Object> out = new LinkedHashMap<>();
            node.fields()
                    .forEachRemaining(e -> out.put(
                            e.getKey(), value(e.getValue(), path.isEmpty() ? e.getKey() : path + "." + e.getKey())));
            return out;
        }
        if (node.isArray()) {
            List<Object> out = new ArrayList<>(node.size());
            for (int i = 0; i < node.size(); i++) {
                out.add(value(node.get(i), path + "[" + i + "]"));
            }
            return out;
        }
        if (node.isIntegralNumber()) {
            if (!node.canConvertToLong()) {
                throw new IllegalArgumentException(
                        path + ": integer " + node + " does not fit in 64 bits (the template engine's integers)");
            }
            return node.longValue();
        }
        if (node.isNumber()) {
            if (!Double.isFinite(node.doubleValue())) {
                throw new IllegalArgumentException(path + ": number beyond the range of a float (about 1.8e308)");
            }
            return node.doubleValue();
        }
        if (node.isTextual()) {
            return node.textValue();
        }
        if (node.isBoolean()) {
            return node.booleanValue();
        }
        return null;
    }

    /**
     * Refuses a kwarg that would replace {@code messages}, {@code add_generation_prompt} or one of
     * {@code specialTokens} (the tokenizer's special-token variables); {@code tools} and {@code documents} may be given.
     *
     * @throws IllegalArgumentException naming the key
     */
    public static void requireAllowed(Map<String, ?> kwargs, Map<String, ?> specialTokens) {
        for (String key : kwargs.keySet()) {
            if (RENDERER_VARIABLES.contains(key)) {
                throw new IllegalArgumentException("chat template kwarg '" + key + "' would shadow the variable " + key
                        + " that the renderer sets");
            }
            if (specialTokens.containsKey(key)) {
                throw new IllegalArgumentException(
                        "chat template kwarg '" + key + "' would shadow the tokenizer's special token " + key + " ('"
                                + specialTokens.get(key) + "')");
            }
        }
    }
}
