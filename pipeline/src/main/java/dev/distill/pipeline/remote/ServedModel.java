package dev.distill.pipeline.remote;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * One entry of GET /v1/models: the served name, vLLM's max_model_len, and `distill serve`'s extensions
 * vocab_size and eos_token_ids (null or empty when the server does not report them).
 */
public record ServedModel(String id, Integer maxModelLen, Integer vocabSize, int[] eosTokenIds) {

    /** The entry named {@code name} in a /v1/models response. */
    static ServedModel find(JsonNode models, String name, String url) {
        JsonNode data = JsonPaths.array(models, "data", "data");
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < data.size(); i++) {
            String path = "data[" + i + "]";
            JsonNode m = JsonPaths.object(data.get(i), path);
            String id = JsonPaths.text(m.get("id"), path + ".id");
            ids.add(id);
            if (id.equals(name)) {
                return new ServedModel(
                        id, optionalInt(m, "max_model_len", path), optionalInt(m, "vocab_size", path), eos(m, path));
            }
        }
        throw new RemoteTeacherException(
                "--teacher-model " + name + ": the server at " + url + " serves " + ids + ", not '" + name + "'");
    }

    private static Integer optionalInt(JsonNode m, String field, String path) {
        JsonNode v = m.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.canConvertToInt() || v.asInt() < 1) {
            throw new ResponseFormatException(path + "." + field, "is not a positive integer: " + v);
        }
        return v.asInt();
    }

    private static int[] eos(JsonNode m, String path) {
        JsonNode v = m.get("eos_token_ids");
        if (v == null || v.isNull()) {
            return new int[0];
        }
        if (!v.isArray()) {
            throw new ResponseFormatException(path + ".eos_token_ids", "is not a list: " + v);
        }
        int[] ids = new int[v.size()];
        for (int i = 0; i < ids.length; i++) {
            if (!v.get(i).canConvertToInt()) {
                throw new ResponseFormatException(path + ".eos_token_ids[" + i + "]", "is not a token id: " + v.get(i));
            }
            ids[i] = v.get(i).asInt();
        }
        return ids;
    }
}
