package dev.distill.prompts;

import java.util.List;
import java.util.Map;

/**
 * One corpus record.
 *
 * @param index the stable prompt_index: 0-based line number (JSONL, text; every line counts, blank or invalid
 *     included) or row number (Parquet)
 * @param text the prompt for {@link PromptKind#PROMPT} and {@link PromptKind#TEXT}; null for chats
 * @param messages the conversation for {@link PromptKind#CHAT} (maps as parsed, extra keys kept); null otherwise
 * @param response the response to score, or null when the record has none
 * @param invalidReason null when valid, else a reason key of {@link SkipReport}
 * @param invalidDetail what exactly is wrong (null when valid)
 */
public record PromptRecord(
        long index,
        PromptKind kind,
        String text,
        List<Map<String, Object>> messages,
        String response,
        String invalidReason,
        String invalidDetail) {

    /** Whether the record can be used. */
    public boolean valid() {
        return invalidReason == null;
    }

    static PromptRecord invalid(long index, String reason, String detail) {
        return new PromptRecord(index, null, null, null, null, reason, detail);
    }
}
