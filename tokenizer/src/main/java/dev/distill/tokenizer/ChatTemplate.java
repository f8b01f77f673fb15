package dev.distill.tokenizer;

import dev.distill.tokenizer.jinja.Template;
import dev.distill.tokenizer.jinja.TemplateException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A compiled Jinja chat template, rendered as transformers' {@code apply_chat_template(tokenize=False)}:
 * variables {@code messages}, {@code add_generation_prompt}, {@code tools=None}, {@code documents=None},
 * the tokenizer's special tokens ({@code bos_token}, {@code eos_token}...) and any extra kwargs.
 */
public final class ChatTemplate {
    private final Template template;
    private final String source;
    private final String sha256;

    private ChatTemplate(Template template, String source) {
        this.template = template;
        this.source = source;
        this.sha256 = Hashing.sha256(source.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Compiles {@code source}.
     *
     * @param sourceName names the template in errors, e.g. {@code /m/tokenizer_config.json#chat_template}
     * @throws TemplateException on a syntax error (with the line) or an unsupported construct
     */
    public static ChatTemplate compile(String source, String sourceName) {
        return new ChatTemplate(Template.compile(source, sourceName), source);
    }

    /**
     * Reads and compiles a template file (a replacement for a tokenizer's own, as vLLM's {@code --chat-template}).
     *
     * @throws TokenizerException naming the file: missing, unreadable, not UTF-8, or not compiling (with the line)
     */
    public static ChatTemplate load(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new TokenizerException("chat template file not found: " + file);
        }
        String text;
        try {
            text = StandardCharsets.UTF_8
                    .newDecoder()
                    .decode(ByteBuffer.wrap(JsonFiles.bytes(file)))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new TokenizerException(file + ": the chat template is not valid UTF-8", e);
        }
        try {
            return compile(text, file.toString());
        } catch (TemplateException e) {
            throw new TokenizerException("chat template does not compile: " + e.getMessage(), e);
        }
    }

    /**
     * Renders a conversation.
     *
     * @param messages maps with at least {@code role} and {@code content}; extra keys are visible to the template
     * @param specialTokens e.g. {@code bos_token -> <s>}; only tokens that are set
     * @throws TemplateException when the template fails, e.g. its own {@code raise_exception(...)}
     */
    public String render(
            List<Map<String, Object>> messages, boolean addGenerationPrompt, Map<String, Object> specialTokens) {
        return render(messages, addGenerationPrompt, specialTokens, Map.of());
    }

    /**
     * Renders a conversation with extra variables, as {@code apply_chat_template(..., **kwargs)}.
     *
     * @param kwargs template values ({@link TemplateKwargs#parse}, or Java maps, lists, strings, numbers, booleans and
     *     nulls); they may set {@code tools} and {@code documents}
     * @throws IllegalArgumentException when a kwarg would replace {@code messages}, {@code add_generation_prompt} or a
     *     special token ({@link TemplateKwargs#requireAllowed})
     * @throws TemplateException when the template fails, e.g. its own {@code raise_exception(...)}
     */
    public String render(
            List<Map<String, Object>> messages,
            boolean addGenerationPrompt,
            Map<String, Object> specialTokens,
            Map<String, ?> kwargs) {
        if (messages.isEmpty()) {
            throw new IllegalArgumentException(
                    "Cannot apply chat template to an empty conversation. Provide at least one message.");
        }
        TemplateKwargs.requireAllowed(kwargs, specialTokens);
        Map<String, Object> variables = new HashMap<>(specialTokens);
        variables.put("tools", null);
        variables.put("documents", null);
        variables.putAll(kwargs);
        variables.put("messages", messages);
        variables.put("add_generation_prompt", addGenerationPrompt);
        return template.render(variables);
    }

    /** The template text. */
    public String source() {
        return source;
    }

    /** SHA-256 (hex) of the template text. */
    public String sha256() {
        return sha256;
    }

    /** Where the template came from, as given to {@link #compile}. */
    public String sourceName() {
        return template.sourceName();
    }
}
