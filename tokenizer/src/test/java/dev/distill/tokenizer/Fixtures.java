package dev.distill.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.distill.testing.RepoRoot;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Locates the repository's shared fixtures and reads the expected outputs recorded from Python. */
public final class Fixtures {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Fixtures() {}

    public static Path tokenizers() {
        return RepoRoot.path().resolve("fixtures").resolve("tokenizers");
    }

    public static JsonNode readTree(Path file) {
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A JSON value as plain Java: maps, lists, strings, Integer/Long/Double, booleans, null. */
    public static Object toJava(JsonNode node) {
        return JSON.convertValue(node, Object.class);
    }

    @SuppressWarnings("unchecked")
    public static List<Map<String, Object>> messages(JsonNode node) {
        return (List<Map<String, Object>>) toJava(node);
    }

    public static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }
}
