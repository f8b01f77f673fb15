package dev.distill.prompts;

/**
 * How to read a corpus.
 *
 * @param format {@code jsonl}, {@code txt} or {@code parquet}; null to tell by the file name
 * @param promptField the field (JSONL) or column (Parquet) holding the prompt; null for {@code prompt}. A string is
 *     a prompt, a list of {role, content} maps a chat; records without it fall back to {@code messages}, then {@code text}
 * @param responseField the field or column holding the response for score mode; null for {@code response}
 * @param requireResponse score mode: every record needs a response (the field, or for chats the last assistant
 *     message, which is then removed from the prompt)
 */
public record PromptSourceOptions(String format, String promptField, String responseField, boolean requireResponse) {
    public PromptSourceOptions {
        promptField = promptField == null ? "prompt" : promptField;
        responseField = responseField == null ? "response" : responseField;
    }

    /** Auto-detected format, default fields, no response required. */
    public static PromptSourceOptions defaults() {
        return new PromptSourceOptions(null, null, null, false);
    }
}
