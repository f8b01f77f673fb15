package dev.distill.data;

import java.util.Arrays;
import java.util.Objects;

/**
 * The optional text columns of a row (written with {@code distill generate --store-spans}): the rendered prompt the
 * teacher read, the completion's exact bytes, and where each completion token ends in them. Token t spans
 * {@code [byteEnds[t-1], byteEnds[t])} (token 0 starts at 0); special tokens, and the stop token that ended the
 * completion, span no bytes.
 *
 * @param promptText the prompt as the teacher saw it: the chat template's rendering, special tokens spelled out
 * @param completionText the completion tokens' bytes concatenated (special and stop tokens excluded); UTF-8, except that a
 *     completion cut by max_new_tokens may end inside a character
 * @param byteEnds {@code len(completion_ids)} non-decreasing offsets, the last one {@code completionText.length}
 */
public record TextSpans(String promptText, byte[] completionText, int[] byteEnds) {
    public TextSpans {
        Objects.requireNonNull(promptText, "prompt_text");
        Objects.requireNonNull(completionText, "completion_text");
        Objects.requireNonNull(byteEnds, "completion_byte_ends");
    }

    /**
     * Why these spans do not cover the text exactly for {@code tokens} completion tokens, or null when they do:
     * one offset per token, non-decreasing, within the text, the last one at its end.
     */
    public String coverageError(int tokens) {
        if (byteEnds.length != tokens) {
            return "completion_byte_ends has " + byteEnds.length + " values, completion_ids has " + tokens;
        }
        int previous = 0;
        for (int t = 0; t < byteEnds.length; t++) {
            if (byteEnds[t] < previous || byteEnds[t] > completionText.length) {
                return "completion_byte_ends[" + t + "] = " + byteEnds[t] + " is not in [" + previous + ", "
                        + completionText.length + "] (offsets must be non-decreasing and within completion_text)";
            }
            previous = byteEnds[t];
        }
        if (previous != completionText.length) {
            return "completion_byte_ends ends at " + previous + ", but completion_text has " + completionText.length
                    + " bytes (the spans must cover it exactly)";
        }
        return null;
    }

    /** Start of token t's span. */
    public int start(int t) {
        return t == 0 ? 0 : byteEnds[t - 1];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TextSpans s
                && promptText.equals(s.promptText)
                && Arrays.equals(completionText, s.completionText)
                && Arrays.equals(byteEnds, s.byteEnds);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * promptText.hashCode() + Arrays.hashCode(completionText)) + Arrays.hashCode(byteEnds);
    }

    @Override
    public String toString() {
        return "TextSpans[prompt " + promptText.length() + " chars, completion " + completionText.length + " bytes, "
                + byteEnds.length + " spans]";
    }
}
