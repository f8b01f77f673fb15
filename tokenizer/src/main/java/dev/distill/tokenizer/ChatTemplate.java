package dev.distill.tokenizer;

import dev.distill.tokenizer.jinja.Template;
import dev.distill.tokenizer.jinja.TemplateException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A compiled Jinja chat template, rendered as transformers' {@code apply_chat_template(tokenize=False)}:
 * variables {@code messages}, {@code add_generation_prompt}, {@code tools=None}, {@code documents=None}
 * and the tokenizer's special tokens ({@code bos_token}, {@code eos_token}...).
 */
public final class ChatTemplate {
  private final Template template;
  private final String sha256;

  private ChatTemplate(Template template, String source) {
    this.template = template;
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
   * Renders a conversation.
   *
   * @param messages maps with at least {@code role} and {@code content}; extra keys are visible to the template
   * @param specialTokens e.g. {@code bos_token -> <s>}; only tokens that are set
   * @throws TemplateException when the template fails, e.g. its own {@code raise_exception(...)}
   */
  public String render(List<Map<String, Object>> messages, boolean addGenerationPrompt, Map<String, Object> specialTokens) {
    if (messages.isEmpty()) {
      throw new IllegalArgumentException("Cannot apply chat template to an empty conversation. Provide at least one message.");
    }
    Map<String, Object> variables = new HashMap<>(specialTokens);
    variables.put("messages", messages);
    variables.put("tools", null);
    variables.put("documents", null);
    variables.put("add_generation_prompt", addGenerationPrompt);
    return template.render(variables);
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
