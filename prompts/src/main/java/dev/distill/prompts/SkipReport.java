package dev.distill.prompts;

import java.util.Map;
import java.util.TreeMap;

/**
 * Counts skipped prompts by reason for the end-of-run summary (thread-safe). Reason keys:
 * <ul>
 *   <li>{@code malformed_json}: the line is not a JSON object
 *   <li>{@code missing_field}: no prompt field ({@code prompt} or the chosen field), no {@code messages}, no {@code text}
 *   <li>{@code invalid_field}: the prompt field has another type than a string or a list of messages
 *   <li>{@code invalid_messages}: a message is not an object with a string {@code role} and {@code content}
 *   <li>{@code empty_prompt}: the prompt is blank, or there are no messages
 *   <li>{@code invalid_utf8}: the line (or Parquet string) is not valid UTF-8
 *   <li>{@code missing_response}: score mode, and the record has no non-empty response
 *   <li>{@code too_long}: the tokenized prompt does not fit the teacher's context (detected by the generator)
 * </ul>
 */
public final class SkipReport {
    public static final String MALFORMED_JSON = "malformed_json";
    public static final String MISSING_FIELD = "missing_field";
    public static final String INVALID_FIELD = "invalid_field";
    public static final String INVALID_MESSAGES = "invalid_messages";
    public static final String EMPTY_PROMPT = "empty_prompt";
    public static final String INVALID_UTF8 = "invalid_utf8";
    public static final String MISSING_RESPONSE = "missing_response";
    public static final String TOO_LONG = "too_long";

    private final Map<String, Long> counts = new TreeMap<>();

    /** Counts one skipped prompt. */
    public synchronized void add(String reason) {
        counts.merge(reason, 1L, Long::sum);
    }

    /** Adds another report's counts (e.g. from another thread). */
    public void merge(SkipReport other) {
        Map<String, Long> theirs = other.counts();
        synchronized (this) {
            theirs.forEach((reason, n) -> counts.merge(reason, n, Long::sum));
        }
    }

    /** Skipped prompts for {@code reason}. */
    public synchronized long count(String reason) {
        return counts.getOrDefault(reason, 0L);
    }

    /** Skipped prompts in all. */
    public synchronized long total() {
        return counts.values().stream().mapToLong(Long::longValue).sum();
    }

    /** The counts by reason, sorted by reason. */
    public synchronized Map<String, Long> counts() {
        return new TreeMap<>(counts);
    }

    /** {@code "skipped 3 prompts: empty_prompt 1, malformed_json 2"}, or {@code "skipped 0 prompts"}. */
    public synchronized String format() {
        long total = total();
        StringBuilder s = new StringBuilder("skipped " + total + (total == 1 ? " prompt" : " prompts"));
        String sep = ": ";
        for (Map.Entry<String, Long> e : counts.entrySet()) {
            s.append(sep).append(e.getKey()).append(' ').append(e.getValue());
            sep = ", ";
        }
        return s.toString();
    }
}
