package dev.distill.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;

/** Token strings and ids of a tokenizer.json: the model's vocab plus its added tokens (DJL offers no lookup). */
final class Vocabulary {
    private final Map<String, Integer> ids = new HashMap<>();
    private final Set<String> addedTokens = new HashSet<>();
    private final Set<Integer> specialIds = new HashSet<>();
    private final String[] tokens;
    private final String modelType;
    private final String decoderType;

    private Vocabulary(Map<String, Integer> vocab, JsonNode added, String modelType, String decoderType, Path file) {
        this.modelType = modelType;
        this.decoderType = decoderType;
        int maxId = -1;
        for (int id : vocab.values()) {
            maxId = Math.max(maxId, id);
        }
        Map<String, Integer> addedIds = new HashMap<>();
        if (added != null) {
            int index = 0;
            for (JsonNode t : added) {
                if (!t.path("id").canConvertToInt() || !t.path("content").isTextual()) {
                    throw new TokenizerException(
                            file + ": added_tokens[" + index + "] needs an integer \"id\" and a string \"content\"");
                }
                int id = t.get("id").asInt();
                addedIds.put(t.get("content").asText(), id);
                if (t.path("special").asBoolean(false)) {
                    specialIds.add(id);
                }
                maxId = Math.max(maxId, id);
                index++;
            }
        }
        tokens = new String[maxId + 1];
        vocab.forEach(this::put);
        addedIds.forEach(this::put);
        addedTokens.addAll(addedIds.keySet());
    }

    private void put(String token, int id) {
        if (id < 0) {
            throw new TokenizerException("negative token id " + id + " for token " + token);
        }
        ids.put(token, id);
        tokens[id] = token;
    }

    /** Reads {@code model.vocab} (a map, or Unigram's list of [piece, score]) and {@code added_tokens}. */
    static Vocabulary of(JsonNode tokenizerJson, Path file) {
        JsonNode model = tokenizerJson.path("model");
        JsonNode vocab = model.path("vocab");
        Map<String, Integer> entries = new HashMap<>();
        if (vocab.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                entries.put(e.getKey(), e.getValue().asInt());
            }
        } else if (vocab.isArray()) {
            for (int i = 0; i < vocab.size(); i++) {
                JsonNode piece = vocab.get(i);
                entries.put(piece.isArray() ? piece.get(0).asText() : piece.asText(), i);
            }
        } else {
            throw new TokenizerException(file + ": \"model.vocab\" is missing (neither an object nor a list)");
        }
        return new Vocabulary(
                entries,
                tokenizerJson.get("added_tokens"),
                model.path("type").asText(""),
                tokenizerJson.path("decoder").path("type").asText(""),
                file);
    }

    OptionalInt id(String token) {
        Integer id = ids.get(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    String token(int id) {
        return id >= 0 && id < tokens.length ? tokens[id] : null;
    }

    int size() {
        return tokens.length;
    }

    boolean isAddedToken(String content) {
        return addedTokens.contains(content);
    }

    boolean isSpecial(int id) {
        return specialIds.contains(id);
    }

    /** The tokenizer.json decoder's type (ByteLevel, Sequence, Metaspace, ...), or "" when there is none. */
    String decoderType() {
        return decoderType;
    }

    /** The tokenizers model type: BPE, WordPiece, Unigram or WordLevel. */
    String modelType() {
        return modelType;
    }
}
