package dev.distill.prompts;

import dev.distill.tokenizer.ChatTemplate;
import dev.distill.tokenizer.HfTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.IntPredicate;

/**
 * Turns corpus records into exactly the token ids the teacher sees: chat conversations and (unless
 * --no-chat-template) plain prompts through the chat template (the teacher's, or --chat-template's) with the
 * generation prompt and the --chat-template-kwargs, raw text as is. In score mode the response's ids are what the
 * template renders after the prompt, up to and including the first stop token. Used by 'distill generate' and by
 * 'distill train --teacher' on a JSONL corpus.
 */
public final class PromptEncoder {
    /** A record's ids, or why it is skipped (a {@code SkipReport} reason key). */
    public record Encoded(int[] promptIds, int[] responseIds, String skipReason, String detail) {
        static Encoded skip(String reason, String detail) {
            return new Encoded(null, null, reason, detail);
        }
    }

    private final HfTokenizer tokenizer;
    private final ChatTemplate template;
    private final Map<String, Object> kwargs;
    private final boolean useTemplate;
    private final boolean score;
    private final int contextLength;
    private final IntPredicate isStop;

    /**
     * @param template the chat template, or null when there is none
     * @param kwargs extra template variables (--chat-template-kwargs)
     * @param useTemplate whether {"prompt"} records go through the template
     */
    public PromptEncoder(
            HfTokenizer tokenizer,
            ChatTemplate template,
            Map<String, Object> kwargs,
            boolean useTemplate,
            boolean score,
            int contextLength,
            IntPredicate isStop) {
        this.tokenizer = tokenizer;
        this.template = template;
        this.kwargs = kwargs;
        this.useTemplate = useTemplate && template != null;
        this.score = score;
        this.contextLength = contextLength;
        this.isStop = isStop;
    }

    public Encoded encode(PromptRecord r) {
        List<Map<String, Object>> chat = conversation(r);
        int[] prompt;
        int[] response = null;
        if (chat != null) {
            if (template == null) {
                throw new IllegalArgumentException(
                        "prompt " + r.index() + " is a chat conversation but the tokenizer has"
                                + " no chat template (tokenizer_config.json chat_template or chat_template.jinja)");
            }
            prompt = tokenizer.encodeChat(chat, true, template, kwargs);
            if (score && r.response() != null) {
                response = chatResponse(chat, r.response(), prompt);
            }
        } else {
            prompt = tokenizer.encode(r.text(), true);
            if (score && r.response() != null) {
                response = tokenizer.encode(r.response(), false);
            }
        }
        if (prompt.length == 0 || (r.kind() != PromptKind.CHAT && r.text().isBlank())) {
            return Encoded.skip(SkipReport.EMPTY_PROMPT, "the prompt encodes to no tokens");
        }
        if (score) {
            if (response == null || response.length == 0) {
                return Encoded.skip(SkipReport.MISSING_RESPONSE, "score mode needs a non-empty response");
            }
            if (prompt.length + response.length > contextLength) {
                return Encoded.skip(
                        SkipReport.TOO_LONG,
                        "prompt and response have " + (prompt.length + response.length)
                                + " tokens; the teacher's context is " + contextLength);
            }
        } else if (prompt.length >= contextLength) {
            return Encoded.skip(
                    SkipReport.TOO_LONG,
                    "the prompt has " + prompt.length + " tokens; the teacher's context is " + contextLength);
        }
        return new Encoded(prompt, response, null, null);
    }

    /** The conversation to template, or null when the record is fed raw. */
    private List<Map<String, Object>> conversation(PromptRecord r) {
        if (r.kind() == PromptKind.CHAT) {
            return r.messages();
        }
        if (r.kind() == PromptKind.PROMPT && useTemplate) {
            return List.of(Map.of("role", "user", "content", r.text()));
        }
        return null;
    }

    /**
     * The response's ids as the template renders them after the generation prompt: the ids of the
     * whole conversation past the prompt's ids, cut after the first stop token.
     */
    private int[] chatResponse(List<Map<String, Object>> chat, String response, int[] prompt) {
        List<Map<String, Object>> full = new ArrayList<>(chat);
        full.add(Map.of("role", "assistant", "content", response));
        int[] all = tokenizer.encodeChat(full, false, template, kwargs);
        if (all.length < prompt.length || !Arrays.equals(all, 0, prompt.length, prompt, 0, prompt.length)) {
            throw new IllegalArgumentException("the chat template renders the conversation with its response so that"
                    + " it does not start with the prompt's generation prompt; score mode cannot split prompt and"
                    + " response (try --no-chat-template with {\"text\"} and {\"response\"} fields)");
        }
        int end = all.length;
        for (int t = prompt.length; t < all.length; t++) {
            if (isStop.test(all[t])) {
                end = t + 1;
                break;
            }
        }
        return Arrays.copyOfRange(all, prompt.length, end);
    }
}
