package dev.distill.data;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The options that differ between two configurations, as {@code "key: a (run) vs b (now)"} (nested keys dotted). */
public final class ConfigDiff {
    private static final String ABSENT = "(absent)";

    private ConfigDiff() {}

    /** Differences in the order of {@code now}'s keys, then keys only {@code run} has. */
    public static List<String> differences(JsonNode run, JsonNode now) {
        Map<String, JsonNode> before = flatten(run);
        Map<String, JsonNode> after = flatten(now);
        List<String> out = new ArrayList<>();
        after.forEach((key, value) -> {
            JsonNode old = before.get(key);
            if (old == null || !CanonicalJson.canonical(value).equals(CanonicalJson.canonical(old))) {
                out.add(key + ": " + text(old) + " (run) vs " + text(value) + " (now)");
            }
        });
        before.forEach((key, value) -> {
            if (!after.containsKey(key)) {
                out.add(key + ": " + text(value) + " (run) vs " + ABSENT + " (now)");
            }
        });
        return out;
    }

    private static Map<String, JsonNode> flatten(JsonNode node) {
        Map<String, JsonNode> out = new LinkedHashMap<>();
        flatten("", node, out);
        return out;
    }

    private static void flatten(String prefix, JsonNode node, Map<String, JsonNode> out) {
        if (node.isObject() && (prefix.isEmpty() || node.size() > 0)) {
            node.fields()
                    .forEachRemaining(
                            e -> flatten(prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey(), e.getValue(), out));
        } else {
            out.put(prefix, node);
        }
    }

    private static String text(JsonNode node) {
        if (node == null) {
            return ABSENT;
        }
        return node.isValueNode() && !node.isNull() ? node.asText() : node.toString();
    }
}
