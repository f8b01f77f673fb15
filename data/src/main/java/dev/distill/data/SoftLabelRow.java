package dev.distill.data;

import java.util.Arrays;
import java.util.Objects;
import java.util.Set;

/**
 * One sample of a soft-label shard: a prompt, the teacher's completion and its top-k next-token
 * log-probabilities (see docs/shard-format.md for the meaning of every column).
 *
 * <p>{@code topkIds} and {@code topkLogprobs} are flattened row-major {@code [len(completionIds) × k]}. {@code text}
 * holds the optional text columns ({@code --store-spans}), or is null.
 */
public record SoftLabelRow(
        String sampleId,
        long promptIndex,
        int sampleIndex,
        int[] promptIds,
        int[] completionIds,
        float[] completionLogprobs,
        int[] topkIds,
        float[] topkLogprobs,
        String finishReason,
        TextSpans text) {

    /** A stop token ended the completion. */
    public static final String STOP = "stop";
    /** max_new_tokens ended the completion. */
    public static final String LENGTH = "length";
    /** The completion is a given response scored by the teacher (score mode). */
    public static final String SCORED = "scored";
    /** Every allowed value of {@code finish_reason}. */
    public static final Set<String> FINISH_REASONS = Set.of(STOP, LENGTH, SCORED);

    /** A row without the optional text columns. */
    public SoftLabelRow(String sampleId, long promptIndex, int sampleIndex, int[] promptIds, int[] completionIds,
            float[] completionLogprobs, int[] topkIds, float[] topkLogprobs, String finishReason) {
        this(sampleId, promptIndex, sampleIndex, promptIds, completionIds, completionLogprobs, topkIds, topkLogprobs,
                finishReason, null);
    }

    /** A row whose {@code sampleId} is derived from its indices, as the format requires. */
    public static SoftLabelRow of(
            long promptIndex,
            int sampleIndex,
            int[] promptIds,
            int[] completionIds,
            float[] completionLogprobs,
            int[] topkIds,
            float[] topkLogprobs,
            String finishReason) {
        return new SoftLabelRow(
                sampleId(promptIndex, sampleIndex),
                promptIndex,
                sampleIndex,
                promptIds,
                completionIds,
                completionLogprobs,
                topkIds,
                topkLogprobs,
                finishReason,
                null);
    }

    /** This row with the optional text columns. */
    public SoftLabelRow withText(TextSpans spans) {
        return new SoftLabelRow(sampleId, promptIndex, sampleIndex, promptIds, completionIds, completionLogprobs, topkIds,
                topkLogprobs, finishReason, spans);
    }

    /** The format's sample id: {@code "<prompt_index>-<sample_index>"}. */
    public static String sampleId(long promptIndex, int sampleIndex) {
        return promptIndex + "-" + sampleIndex;
    }

    /** Number of completion tokens (positions with a top-k distribution). */
    public int completionLength() {
        return completionIds.length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SoftLabelRow r
                && promptIndex == r.promptIndex
                && sampleIndex == r.sampleIndex
                && Objects.equals(sampleId, r.sampleId)
                && Arrays.equals(promptIds, r.promptIds)
                && Arrays.equals(completionIds, r.completionIds)
                && Arrays.equals(completionLogprobs, r.completionLogprobs)
                && Arrays.equals(topkIds, r.topkIds)
                && Arrays.equals(topkLogprobs, r.topkLogprobs)
                && Objects.equals(finishReason, r.finishReason)
                && Objects.equals(text, r.text);
    }

    @Override
    public int hashCode() {
        int h = Objects.hash(sampleId, promptIndex, sampleIndex, finishReason);
        h = 31 * h + Arrays.hashCode(promptIds);
        h = 31 * h + Arrays.hashCode(completionIds);
        h = 31 * h + Arrays.hashCode(completionLogprobs);
        h = 31 * h + Arrays.hashCode(topkIds);
        h = 31 * h + Objects.hashCode(text);
        return 31 * h + Arrays.hashCode(topkLogprobs);
    }

    @Override
    public String toString() {
        return "SoftLabelRow[" + sampleId + ", prompt " + promptIds.length + " tokens, completion "
                + completionIds.length + " tokens, top-k values " + topkIds.length + ", " + finishReason
                + (text == null ? "" : ", " + text) + "]";
    }
}
