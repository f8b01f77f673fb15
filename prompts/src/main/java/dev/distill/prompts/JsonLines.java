package dev.distill.prompts;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Map;

/** Parses a JSONL line ({@code {"prompt": ...}}, {@code {"messages": [...]}} or {@code {"text": ...}}) into a record. */
final class JsonLines implements LineRecords.LineParser {
    private static final ObjectMapper MAPPER =
            new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final TypeReference<Map<String, Object>> OBJECT = new TypeReference<>() {};
    private static final int MAX_DETAIL = 160;

    private final PromptSourceOptions options;

    JsonLines(PromptSourceOptions options) {
        this.options = options;
    }

    @Override
    public PromptRecord parse(long index, String line) {
        if (line.isBlank()) {
            return PromptRecord.invalid(index, SkipReport.EMPTY_PROMPT, "blank line");
        }
        String trimmed = line.strip();
        if (!trimmed.startsWith("{")) {
            return PromptRecord.invalid(index, SkipReport.MALFORMED_JSON, "not a JSON object");
        }
        Map<String, Object> fields;
        try {
            fields = MAPPER.readValue(trimmed, OBJECT);
        } catch (JsonProcessingException e) {
            String detail = e.getOriginalMessage().replaceAll("\\s+", " ");
            return PromptRecord.invalid(
                    index,
                    SkipReport.MALFORMED_JSON,
                    detail.length() > MAX_DETAIL ? detail.substring(0, MAX_DETAIL) + "..." : detail);
        }
        return PromptFields.toRecord(index, fields, options);
    }
}
