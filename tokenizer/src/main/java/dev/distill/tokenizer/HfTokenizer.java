package dev.distill.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.TokenizersLibrary;
import com.fasterxml.jackson.databind.JsonNode;
import dev.distill.tokenizer.jinja.TemplateException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Hugging Face tokenizer directory (tokenizer.json, tokenizer_config.json, special_tokens_map.json,
 * generation_config.json, chat_template.jinja) that encodes exactly as transformers 5 does: the
 * tokenizers library through DJL (no truncation, no padding), special tokens from the configs, and the
 * chat template rendered by this module's Jinja engine.
 */
public final class HfTokenizer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HfTokenizer.class);
    /** Tokenizer classes whose transformers 5 pipeline is exactly tokenizer.json's (the parity tests cover them). */
    private static final Set<String> VERIFIED_CLASSES =
            Set.of("PreTrainedTokenizerFast", "TokenizersBackend", "Qwen2Tokenizer", "Qwen2TokenizerFast");

    private final Path dir;
    private final HuggingFaceTokenizer djlTokenizer;
    private final Vocabulary vocab;
    private final SpecialTokens special;
    private final ChatTemplate chatTemplate;
    private final boolean cleanUpSpaces;
    private final String sha256;
    private TokenBytes tokenBytes;

    private HfTokenizer(
            Path dir,
            HuggingFaceTokenizer djlTokenizer,
            Vocabulary vocab,
            SpecialTokens special,
            ChatTemplate chatTemplate,
            boolean cleanUpSpaces,
            String sha256) {
        this.dir = dir;
        this.djlTokenizer = djlTokenizer;
        this.vocab = vocab;
        this.special = special;
        this.chatTemplate = chatTemplate;
        this.cleanUpSpaces = cleanUpSpaces;
        this.sha256 = sha256;
    }

    /**
     * Loads a tokenizer directory.
     *
     * @throws TokenizerException naming the file: missing tokenizer.json, broken JSON (line and column),
     *     a special token that is not an added token, or a chat template that does not compile (line)
     */
    public static HfTokenizer load(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new TokenizerException("tokenizer directory not found: " + dir);
        }
        Path tokenizerFile = dir.resolve("tokenizer.json");
        if (!Files.isRegularFile(tokenizerFile)) {
            throw new TokenizerException("tokenizer.json not found in " + dir);
        }
        byte[] tokenizerBytes = JsonFiles.bytes(tokenizerFile);
        Vocabulary vocab = Vocabulary.of(JsonFiles.parse(tokenizerFile, tokenizerBytes), tokenizerFile);

        Path configFile = dir.resolve("tokenizer_config.json");
        boolean hasConfig = Files.isRegularFile(configFile);
        byte[] configBytes = hasConfig ? JsonFiles.bytes(configFile) : new byte[0];
        JsonNode config = hasConfig ? JsonFiles.parse(configFile, configBytes) : null;
        SpecialTokens special = SpecialTokens.resolve(
                dir,
                config,
                JsonFiles.parseIfPresent(dir.resolve("special_tokens_map.json")),
                JsonFiles.parseIfPresent(dir.resolve("generation_config.json")),
                vocab);

        Path templateFile = dir.resolve("chat_template.jinja");
        byte[] templateBytes = Files.isRegularFile(templateFile) ? JsonFiles.bytes(templateFile) : new byte[0];
        ChatTemplate template = chatTemplate(config, configFile, templateFile, templateBytes);

        String tokenizerClass =
                config == null ? "" : config.path("tokenizer_class").asText("");
        if (!tokenizerClass.isEmpty() && !VERIFIED_CLASSES.contains(tokenizerClass)) {
            LOG.warn(
                    "{}: tokenizer_class {} may make transformers rebuild the pipeline from vocab/merges; parity is verified for {}",
                    configFile,
                    tokenizerClass,
                    VERIFIED_CLASSES);
        }
        boolean cleanUp = config != null
                && config.path("clean_up_tokenization_spaces").asBoolean(false)
                && (!vocab.modelType().equals("BPE")
                        || config.path("clean_up_tokenization_spaces_for_bpe_even_though_it_will_corrupt_output")
                                .asBoolean(false));

        HuggingFaceTokenizer djl;
        try {
            djl = HuggingFaceTokenizer.newInstance(
                    new ByteArrayInputStream(tokenizerBytes),
                    Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false"));
        } catch (IOException | RuntimeException e) {
            throw new TokenizerException(tokenizerFile + ": the tokenizers library rejected it: " + e.getMessage(), e);
        }
        return new HfTokenizer(
                dir,
                djl,
                vocab,
                special,
                template,
                cleanUp,
                Hashing.sha256(tokenizerBytes, configBytes, templateBytes));
    }

    /** chat_template.jinja beside the config wins (as in transformers); else the config's chat_template. */
    private static ChatTemplate chatTemplate(
            JsonNode config, Path configFile, Path templateFile, byte[] templateBytes) {
        try {
            if (Files.isRegularFile(templateFile)) {
                return ChatTemplate.compile(new String(templateBytes, StandardCharsets.UTF_8), templateFile.toString());
            }
            JsonNode node = config == null ? null : config.get("chat_template");
            if (node == null || node.isNull()) {
                return null;
            }
            if (node.isTextual()) {
                return ChatTemplate.compile(node.asText(), configFile + "#chat_template");
            }
            if (node.isArray()) {
                for (JsonNode named : node) {
                    if (named.path("name").asText().equals("default")
                            && named.path("template").isTextual()) {
                        return ChatTemplate.compile(
                                named.get("template").asText(), configFile + "#chat_template[default]");
                    }
                }
                return null;
            }
            throw new TokenizerException(configFile + ": chat_template must be a string or a list of {name, template}");
        } catch (TemplateException e) {
            throw new TokenizerException("chat template does not compile: " + e.getMessage(), e);
        }
    }

    private static int[] toInts(long[] ids) {
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = Math.toIntExact(ids[i]);
        }
        return out;
    }

    /**
     * The ids of a native encoding, which is then freed. DJL's {@code Encoding} would also copy tokens,
     * offsets and masks out of the library; reading only the ids makes encoding 2-3x faster.
     */
    private static int[] takeIds(long encoding) {
        try {
            return toInts(TokenizersLibrary.LIB.getTokenIds(encoding));
        } finally {
            TokenizersLibrary.LIB.deleteEncoding(encoding);
        }
    }

    /** Token ids of {@code text}; {@code addSpecialTokens} applies tokenizer.json's post-processor (e.g. a leading bos). */
    public int[] encode(String text, boolean addSpecialTokens) {
        return takeIds(TokenizersLibrary.LIB.encode(djlTokenizer.getHandle(), text, addSpecialTokens));
    }

    /** {@link #encode} for many texts at once, in parallel inside the tokenizers library (DJL's native batch encode). */
    public List<int[]> encodeBatch(List<String> texts, boolean addSpecialTokens) {
        if (texts.isEmpty()) {
            return List.of();
        }
        long[] encodings = TokenizersLibrary.LIB.batchEncode(
                djlTokenizer.getHandle(), texts.toArray(new String[0]), addSpecialTokens);
        List<int[]> out = new ArrayList<>(encodings.length);
        int i = 0;
        try {
            for (; i < encodings.length; i++) {
                out.add(takeIds(encodings[i]));
            }
        } finally {
            for (int j = i + 1; j < encodings.length; j++) {
                TokenizersLibrary.LIB.deleteEncoding(encodings[j]);
            }
        }
        return out;
    }

    /** Text of {@code ids}, as transformers' {@code decode} (for logs and inspection). */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        String text = djlTokenizer.decode(Arrays.stream(ids).asLongStream().toArray(), skipSpecialTokens);
        return cleanUpSpaces ? cleanUpTokenizationSpaces(text) : text;
    }

    /** transformers' {@code clean_up_tokenization} (applied only to non-BPE models, as transformers 5 does). */
    static String cleanUpTokenizationSpaces(String text) {
        return text.replace(" .", ".")
                .replace(" ?", "?")
                .replace(" !", "!")
                .replace(" ,", ",")
                .replace(" ' ", "'")
                .replace(" n't", "n't")
                .replace(" 'm", "'m")
                .replace(" 's", "'s")
                .replace(" 've", "'ve")
                .replace(" 're", "'re");
    }

    public OptionalInt tokenToId(String token) {
        return vocab.id(token);
    }

    public Optional<String> idToToken(int id) {
        return Optional.ofNullable(vocab.token(id));
    }

    /** Whether {@code id} is an added token flagged special in tokenizer.json. */
    public boolean isSpecial(int id) {
        return vocab.isSpecial(id);
    }

    /** Max token id + 1 over the vocab and the added tokens. */
    public int vocabSize() {
        return vocab.size();
    }

    public OptionalInt bosId() {
        return special.bos();
    }

    /** The eos token's id, then any further ids from generation_config.json's eos_token_id. */
    public int[] eosIds() {
        return special.eos();
    }

    public OptionalInt padId() {
        return special.pad();
    }

    /** The special tokens chat templates see, e.g. {@code eos_token -> <|im_end|>}. */
    public Map<String, String> specialTokens() {
        return special.templateTokens();
    }

    public Optional<ChatTemplate> chatTemplate() {
        return Optional.ofNullable(chatTemplate);
    }

    /** The chat template's text for a conversation, as {@code apply_chat_template(tokenize=False)}. */
    public String renderChat(List<Map<String, Object>> messages, boolean addGenerationPrompt) {
        if (chatTemplate == null) {
            throw new TokenizerException(
                    dir + ": no chat template (neither chat_template.jinja nor tokenizer_config.json#chat_template)");
        }
        return renderChat(messages, addGenerationPrompt, chatTemplate, Map.of());
    }

    /**
     * {@code template}'s text for a conversation with this tokenizer's special tokens and extra {@code kwargs}, as
     * {@code apply_chat_template(messages, chat_template=..., tokenize=False, **kwargs)}.
     *
     * @throws IllegalArgumentException when a kwarg would replace messages, add_generation_prompt or a special token
     */
    public String renderChat(
            List<Map<String, Object>> messages,
            boolean addGenerationPrompt,
            ChatTemplate template,
            Map<String, ?> kwargs) {
        return template.render(messages, addGenerationPrompt, Map.copyOf(special.templateTokens()), kwargs);
    }

    /** apply the chat template and tokenize without special tokens, as transformers' apply_chat_template(tokenize=True) */
    public int[] encodeChat(List<Map<String, Object>> messages, boolean addGenerationPrompt) {
        return encode(renderChat(messages, addGenerationPrompt), false);
    }

    /** {@link #renderChat(List, boolean, ChatTemplate, Map)}, tokenized without special tokens (tokenize=True). */
    public int[] encodeChat(
            List<Map<String, Object>> messages,
            boolean addGenerationPrompt,
            ChatTemplate template,
            Map<String, ?> kwargs) {
        return encode(renderChat(messages, addGenerationPrompt, template, kwargs), false);
    }

    /**
     * The bytes each token id contributes to decoded text (see {@link TokenBytes}); built on first use.
     *
     * @throws TokenizerException when the tokenizer's decoder is not byte-level
     */
    public synchronized TokenBytes tokenBytes() {
        if (tokenBytes == null) {
            tokenBytes = TokenBytes.of(vocab, dir);
        }
        return tokenBytes;
    }

    /** SHA-256 (hex) over tokenizer.json, then tokenizer_config.json and chat_template.jinja when present. */
    public String sha256() {
        return sha256;
    }

    public Path directory() {
        return dir;
    }

    @Override
    public void close() {
        djlTokenizer.close();
    }
}
