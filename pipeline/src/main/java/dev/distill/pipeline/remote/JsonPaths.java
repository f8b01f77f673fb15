package dev.distill.pipeline.remote;

import com.fasterxml.jackson.databind.JsonNode;

/** Typed reads from a JSON response that fail with a {@link ResponseFormatException} naming the field's path. */
final class JsonPaths {
    private JsonPaths() {}

    static JsonNode field(JsonNode parent, String name, String path) {
        JsonNode v = parent.get(name);
        if (v == null || v.isNull()) {
            throw new ResponseFormatException(path, "is missing");
        }
        return v;
    }

    static JsonNode array(JsonNode parent, String name, String path) {
        JsonNode v = field(parent, name, path);
        if (!v.isArray()) {
            throw new ResponseFormatException(path, "is not a list: " + abbreviate(v));
        }
        return v;
    }

    static JsonNode object(JsonNode node, String path) {
        if (node == null || node.isNull()) {
            throw new ResponseFormatException(path, "is missing");
        }
        if (!node.isObject()) {
            throw new ResponseFormatException(path, "is not an object: " + abbreviate(node));
        }
        return node;
    }

    static float number(JsonNode node, String path) {
        if (node == null || node.isNull()) {
            throw new ResponseFormatException(path, "is missing");
        }
        if (!node.isNumber()) {
            throw new ResponseFormatException(path, "is not a number: " + abbreviate(node));
        }
        return node.floatValue();
    }

    static String text(JsonNode node, String path) {
        if (node == null || node.isNull()) {
            throw new ResponseFormatException(path, "is missing");
        }
        if (!node.isTextual()) {
            throw new ResponseFormatException(path, "is not a string: " + abbreviate(node));
        }
        return node.asText();
    }

    static String abbreviate(JsonNode node) {
        String s = node.toString();
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }
}
