package dev.distill.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;

/**
 * The named special tokens (bos, eos, pad...) as transformers 5 resolves them from tokenizer_config.json,
 * special_tokens_map.json (only when the config has no {@code added_tokens_decoder}) and
 * generation_config.json (extra eos ids). Every special token must already be an added token of
 * tokenizer.json: transformers would otherwise append it with a new id, which this loader refuses to guess.
 */
final class SpecialTokens {
    /** transformers' SPECIAL_TOKENS_ATTRIBUTES. */
    static final List<String> NAMED =
            List.of("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token");

    private final Map<String, String> templateTokens;
    private final OptionalInt bos;
    private final OptionalInt pad;
    private final int[] eos;

    private SpecialTokens(Map<String, String> templateTokens, OptionalInt bos, OptionalInt pad, int[] eos) {
        this.templateTokens = templateTokens;
        this.bos = bos;
        this.pad = pad;
        this.eos = eos;
    }

    static SpecialTokens resolve(
            Path dir, JsonNode config, JsonNode specialMap, JsonNode generation, Vocabulary vocab) {
        Map<String, JsonNode> values = new LinkedHashMap<>();
        Map<String, String> origin = new LinkedHashMap<>();
        collect(config, "tokenizer_config.json", values, origin);
        if (config == null || !config.has("added_tokens_decoder")) {
            collect(specialMap, "special_tokens_map.json", values, origin);
        }
        if (config != null && config.has("added_tokens_decoder")) {
            checkAddedTokensDecoder(dir.resolve("tokenizer_config.json"), config.get("added_tokens_decoder"), vocab);
        }

        Map<String, String> named = new LinkedHashMap<>();
        List<String> extras = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : values.entrySet()) {
            String key = e.getKey();
            JsonNode v = e.getValue();
            if (NAMED.contains(key) || (key.endsWith("_token") && content(v) != null)) {
                String token = content(v);
                if (token != null) {
                    named.put(key, token);
                }
            } else if (key.equals("extra_special_tokens") && v.isObject()) {
                v.fields().forEachRemaining(f -> {
                    if (content(f.getValue()) != null) {
                        named.put(f.getKey(), content(f.getValue()));
                    }
                });
            } else if (key.equals("extra_special_tokens") || key.equals("additional_special_tokens")) {
                v.forEach(t -> extras.add(content(t)));
            }
        }
        Set<String> all = new LinkedHashSet<>(named.values());
        all.addAll(extras);
        for (String token : all) {
            if (token != null && !vocab.isAddedToken(token)) {
                String key = named.entrySet().stream()
                        .filter(n -> token.equals(n.getValue()))
                        .map(Map.Entry::getKey)
                        .findFirst()
                        .orElse("extra_special_tokens");
                throw new TokenizerException(
                        dir.resolve(origin.getOrDefault(key, "tokenizer_config.json")) + ": " + key + " '" + token
                                + "' is not an added token of " + dir.resolve("tokenizer.json")
                                + "; transformers would add it with a new id, which this loader does not emulate");
            }
        }
        return new SpecialTokens(
                Collections.unmodifiableMap(named),
                idOf(named.get("bos_token"), vocab),
                idOf(named.get("pad_token"), vocab),
                eosIds(named.get("eos_token"), generation, dir.resolve("generation_config.json"), vocab));
    }

    private static void collect(JsonNode node, String file, Map<String, JsonNode> values, Map<String, String> origin) {
        if (node == null) {
            return;
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            values.put(e.getKey(), e.getValue());
            origin.put(e.getKey(), file);
        }
    }

    /** A token given as a string or an AddedToken object ({@code {"content": ...}}); null otherwise. */
    private static String content(JsonNode v) {
        if (v == null || v.isNull()) {
            return null;
        }
        if (v.isTextual()) {
            return v.asText();
        }
        return v.isObject() && v.path("content").isTextual() ? v.get("content").asText() : null;
    }

    private static void checkAddedTokensDecoder(Path file, JsonNode decoder, Vocabulary vocab) {
        decoder.fields().forEachRemaining(e -> {
            String token = content(e.getValue());
            int id;
            try {
                id = Integer.parseInt(e.getKey());
            } catch (NumberFormatException ex) {
                throw new TokenizerException(
                        file + ": added_tokens_decoder key '" + e.getKey() + "' is not a token id");
            }
            if (token == null || !token.equals(vocab.token(id))) {
                throw new TokenizerException(file + ": added_tokens_decoder maps id " + id + " to "
                        + (token == null ? "nothing" : "'" + token + "'") + " but tokenizer.json has "
                        + (vocab.token(id) == null ? "no such id" : "'" + vocab.token(id) + "'"));
            }
        });
    }

    private static OptionalInt idOf(String token, Vocabulary vocab) {
        return token == null ? OptionalInt.empty() : vocab.id(token);
    }

    private static int[] eosIds(String eosToken, JsonNode generation, Path generationFile, Vocabulary vocab) {
        Set<Integer> ids = new LinkedHashSet<>();
        idOf(eosToken, vocab).ifPresent(ids::add);
        JsonNode fromGeneration = generation == null ? null : generation.get("eos_token_id");
        if (fromGeneration != null && !fromGeneration.isNull()) {
            for (JsonNode id : fromGeneration.isArray() ? fromGeneration : List.of(fromGeneration)) {
                if (!id.canConvertToInt()) {
                    throw new TokenizerException(
                            generationFile + ": eos_token_id must be an integer or a list of integers, got " + id);
                }
                ids.add(id.asInt());
            }
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    /** What chat templates see: named and model-specific special tokens that are set (transformers' special_tokens_map). */
    Map<String, String> templateTokens() {
        return templateTokens;
    }

    OptionalInt bos() {
        return bos;
    }

    OptionalInt pad() {
        return pad;
    }

    int[] eos() {
        return eos.clone();
    }
}
