package dev.distill.prompts;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Turns one record's fields (a parsed JSONL object or a Parquet row) into a {@link PromptRecord}. */
final class PromptFields {
    static final String MESSAGES = "messages";
    static final String TEXT = "text";

    private PromptFields() {}

    static PromptRecord toRecord(long index, Map<String, Object> fields, PromptSourceOptions options) {
        String field = fields.get(options.promptField()) != null
                ? options.promptField()
                : fields.get(MESSAGES) != null ? MESSAGES : fields.get(TEXT) != null ? TEXT : null;
        if (field == null) {
            return PromptRecord.invalid(
                    index,
                    SkipReport.MISSING_FIELD,
                    "no \"" + options.promptField() + "\", \"" + MESSAGES + "\" or \"" + TEXT + "\" field (fields: "
                            + String.join(", ", fields.keySet()) + ")");
        }
        Object value = fields.get(field);
        Object responseValue = fields.get(options.responseField());
        String response = responseValue instanceof String s && !s.isEmpty() ? s : null;
        if (value instanceof String text) {
            if (text.isBlank()) {
                return PromptRecord.invalid(index, SkipReport.EMPTY_PROMPT, "\"" + field + "\" is blank");
            }
            if (options.requireResponse() && response == null) {
                return PromptRecord.invalid(
                        index,
                        SkipReport.MISSING_RESPONSE,
                        "no non-empty string \"" + options.responseField() + "\" field");
            }
            return new PromptRecord(
                    index, TEXT.equals(field) ? PromptKind.TEXT : PromptKind.PROMPT, text, null, response, null, null);
        }
        if (!(value instanceof List<?> list)) {
            return PromptRecord.invalid(
                    index,
                    SkipReport.INVALID_FIELD,
                    "\"" + field + "\" is " + describe(value) + ", expected a string or a list of messages");
        }
        return chat(index, field, list, response, options);
    }

    private static PromptRecord chat(
            long index, String field, List<?> list, String response, PromptSourceOptions options) {
        List<Map<String, Object>> messages = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof Map<?, ?> m)
                    || !(m.get("role") instanceof String)
                    || !(m.get("content") instanceof String)) {
                return PromptRecord.invalid(
                        index,
                        SkipReport.INVALID_MESSAGES,
                        "\"" + field + "\"[" + i + "] is not an object with string \"role\" and \"content\"");
            }
            Map<String, Object> copy = new LinkedHashMap<>();
            m.forEach((k, v) -> copy.put(String.valueOf(k), v));
            messages.add(Collections.unmodifiableMap(copy));
        }
        if (options.requireResponse() && response == null) {
            Map<String, Object> last = messages.isEmpty() ? null : messages.get(messages.size() - 1);
            if (last == null || !"assistant".equals(last.get("role")) || ((String) last.get("content")).isEmpty()) {
                return PromptRecord.invalid(
                        index,
                        SkipReport.MISSING_RESPONSE,
                        "no non-empty string \"" + options.responseField()
                                + "\" field and the last message is not a non-empty assistant message");
            }
            response = (String) last.get("content");
            messages.remove(messages.size() - 1);
        }
        if (messages.isEmpty()) {
            return PromptRecord.invalid(
                    index,
                    SkipReport.EMPTY_PROMPT,
                    "\"" + field + "\" has no messages" + (options.requireResponse() ? " before the response" : ""));
        }
        return new PromptRecord(index, PromptKind.CHAT, null, List.copyOf(messages), response, null, null);
    }

    private static String describe(Object value) {
        if (value instanceof Map) {
            return "an object";
        }
        if (value instanceof Number) {
            return "a number";
        }
        if (value instanceof Boolean) {
            return "a boolean";
        }
        return "a " + value.getClass().getSimpleName();
    }
}
