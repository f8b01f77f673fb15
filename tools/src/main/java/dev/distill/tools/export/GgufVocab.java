package dev.distill.tools.export;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.distill.model.gguf.GgufException;
import dev.distill.model.gguf.GgufModel;
import dev.distill.model.gguf.GgufWriter;
import dev.distill.tokenizer.HfTokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A Hugging Face byte-level BPE tokenizer as GGUF tokenizer.* keys, the way convert_hf_to_gguf.py's
 * {@code _set_vocab_gpt2} writes them: model "gpt2", the pre-tokenizer name llama.cpp knows the
 * split regex by, one token per embedding row (ids without a token become {@code [PADn]}), token
 * types (normal, control for special added tokens, user-defined for other added ones), merges, the
 * bos/eos/pad ids, whether a bos/eos is added, and the chat template.
 */
public final class GgufVocab {
    static final int NORMAL = 1;
    static final int CONTROL = 3;
    static final int USER_DEFINED = 4;

    /** The split regex of Llama 3 (digits in runs of up to three): llama.cpp's "llama-bpe". */
    static final String LLAMA3_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}|"
            + " ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    /** The split regex of Qwen2/2.5/3 (single digits): llama.cpp's "qwen2". */
    static final String QWEN2_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}|"
            + " ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    private GgufVocab() {}

    /** Adds the tokenizer keys of {@code dir}'s tokenizer for an embedding of {@code vocabSize} rows. */
    public static void write(Path dir, HfTokenizer tokenizer, int vocabSize, GgufWriter w) {
        Path file = dir.resolve("tokenizer.json");
        JsonNode json;
        try {
            json = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
        JsonNode model = json.path("model");
        if (!model.path("type").asText().equals("BPE")) {
            throw new GgufException(file + ": model.type '" + model.path("type").asText()
                    + "' cannot be exported to GGUF (supported: BPE, byte-level)");
        }
        String pre = preTokenizer(json.path("pre_tokenizer"), file);
        if (tokenizer.vocabSize() > vocabSize) {
            throw new GgufException(
                    file + ": " + tokenizer.vocabSize() + " tokens do not fit the model's vocab_size " + vocabSize);
        }
        Map<Integer, JsonNode> added = new HashMap<>();
        for (JsonNode t : json.path("added_tokens")) {
            added.put(t.path("id").asInt(), t);
        }
        List<String> tokens = new ArrayList<>(vocabSize);
        int[] types = new int[vocabSize];
        for (int i = 0; i < vocabSize; i++) {
            String token = tokenizer.idToToken(i).orElse(null);
            JsonNode a = added.get(i);
            if (token == null) {
                tokens.add("[PAD" + i + "]");
                types[i] = USER_DEFINED;
            } else if (a != null) {
                boolean control = a.path("special").asBoolean(false) || looksSpecial(token);
                tokens.add(control ? token : token.replace("\u2581", " "));
                types[i] = control ? CONTROL : USER_DEFINED;
            } else {
                tokens.add(token);
                types[i] = NORMAL;
            }
        }
        List<String> merges = new ArrayList<>();
        for (JsonNode m : model.path("merges")) {
            merges.add(m.isArray() ? m.get(0).asText() + " " + m.get(1).asText() : m.asText());
        }
        w.putString("tokenizer.ggml.model", "gpt2");
        w.putString("tokenizer.ggml.pre", pre);
        w.putStrings("tokenizer.ggml.tokens", tokens);
        w.putI32s("tokenizer.ggml.token_type", types);
        w.putStrings("tokenizer.ggml.merges", merges);
        tokenizer.bosId().ifPresent(id -> w.putU32("tokenizer.ggml.bos_token_id", id));
        if (tokenizer.eosIds().length > 0) {
            w.putU32("tokenizer.ggml.eos_token_id", tokenizer.eosIds()[0]);
        }
        tokenizer.padId().ifPresent(id -> w.putU32("tokenizer.ggml.padding_token_id", id));
        int[] withSpecials = tokenizer.encode("a", true);
        int[] plain = tokenizer.encode("a", false);
        boolean addBos = withSpecials.length > plain.length
                && tokenizer.bosId().isPresent()
                && withSpecials[0] == tokenizer.bosId().getAsInt();
        boolean addEos = withSpecials.length > plain.length
                && tokenizer.eosIds().length > 0
                && withSpecials[withSpecials.length - 1] == tokenizer.eosIds()[0];
        w.putBool("tokenizer.ggml.add_bos_token", addBos);
        w.putBool("tokenizer.ggml.add_eos_token", addEos);
        tokenizer.chatTemplate().ifPresent(t -> w.putString("tokenizer.chat_template", t.source()));
        w.putString(GgufModel.TOKENIZER_SHA_KEY, tokenizer.sha256());
    }

    /** convert_hf_to_gguf's does_token_look_special for the token texts these tokenizers use. */
    private static boolean looksSpecial(String token) {
        return token.equals("<pad>")
                || token.equals("<mask>")
                || (token.startsWith("<|") && token.endsWith("|>"))
                || (token.startsWith("<\uff5c") && token.endsWith("\uff5c>"));
    }

    /** llama.cpp's pre-tokenizer name for a tokenizer.json pre_tokenizer, or an error naming it. */
    static String preTokenizer(JsonNode pre, Path file) {
        if (pre.path("type").asText().equals("ByteLevel")
                && pre.path("use_regex").asBoolean(true)) {
            return "gpt-2";
        }
        if (pre.path("type").asText().equals("Sequence")) {
            JsonNode list = pre.path("pretokenizers");
            if (list.size() == 2
                    && list.get(0).path("type").asText().equals("Split")
                    && list.get(1).path("type").asText().equals("ByteLevel")
                    && !list.get(1).path("use_regex").asBoolean(true)) {
                String regex = list.get(0).path("pattern").path("Regex").asText();
                if (regex.equals(LLAMA3_REGEX)) {
                    return "llama-bpe";
                }
                if (regex.equals(QWEN2_REGEX)) {
                    return "qwen2";
                }
            }
        }
        throw new GgufException(file + ": pre_tokenizer " + pre + " has no llama.cpp pre-tokenizer name (supported: "
                + "byte-level GPT-2, the Llama 3 and the Qwen2 split regexes)");
    }
}
