package dev.distill.data;

import java.util.Arrays;
import java.util.Objects;
import java.util.Set;

/**
 * One sample of a soft-label shard: a prompt, the teacher's completion and its top-k next-token
 * log-probabilities (see docs/shard-format.md for the meaning of every column).
 *
 * <p>{@code topkIds} and {@code topkLogprobs} hold the stored entries of every completion position, position after
 * position. {@code labelSizes} (format version 2) gives the number of entries of each position; null means every
 * position holds {@code top_k} entries (version 1, where the arrays are {@code [len(completionIds) × k]} row-major).
 * {@code labelCounts} (version 2, {@code sample:N} runs) gives the number of draws of each entry; null or empty
 * otherwise.
 * {@code text} holds the optional text columns ({@code --store-spans}), or is null.
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
        int[] labelSizes,
        int[] labelCounts,
        TextSpans text) {

    /** A stop token ended the completion. */
    public static final String STOP = "stop";
    /** max_new_tokens ended the completion. */
    public static final String LENGTH = "length";
    /** The completion is a given response scored by the teacher (score mode). */
    public static final String SCORED = "scored";
    /** Every allowed value of {@code finish_reason}. */
    public static final Set<String> FINISH_REASONS = Set.of(STOP, LENGTH, SCORED);

    /** A row of fixed top-k width (no per-position sizes, no counts) without the optional text columns. */
    public SoftLabelRow(
            String sampleId,
            long promptIndex,
            int sampleIndex,
            int[] promptIds,
            int[] completionIds,
            float[] completionLogprobs,
            int[] topkIds,
            float[] topkLogprobs,
            String finishReason) {
        this(
                sampleId,
                promptIndex,
                sampleIndex,
                promptIds,
                completionIds,
                completionLogprobs,
                topkIds,
                topkLogprobs,
                finishReason,
                null,
                null,
                null);
    }

    /** A row with per-position sizes and counts, without the optional text columns. */
    public SoftLabelRow(
            String sampleId,
            long promptIndex,
            int sampleIndex,
            int[] promptIds,
            int[] completionIds,
            float[] completionLogprobs,
            int[] topkIds,
            float[] topkLogprobs,
            String finishReason,
            int[] labelSizes,
            int[] labelCounts) {
        this(
                sampleId,
                promptIndex,
                sampleIndex,
                promptIds,
                completionIds,
                completionLogprobs,
                topkIds,
                topkLogprobs,
                finishReason,
                labelSizes,
                labelCounts,
                null);
    }

    /** This row with per-position entry counts and (for sampled labels) draw counts. */
    public SoftLabelRow withLabels(int[] sizes, int[] counts) {
        return new SoftLabelRow(
                sampleId,
                promptIndex,
                sampleIndex,
                promptIds,
                completionIds,
                completionLogprobs,
                topkIds,
                topkLogprobs,
                finishReason,
                sizes,
                counts,
                text);
    }
    /**
     * Where each position's entries start in {@code topkIds}/{@code topkLogprobs}: {@code n + 1} offsets, the last
     * one the number of entries.
     *
     * @param topK the shard's {@code top_k}, used when the row has no {@code labelSizes}
     */
    public int[] labelOffsets(int topK) {
        int n = completionIds.length;
        int[] offsets = new int[n + 1];
        for (int t = 0; t < n; t++) {
            offsets[t + 1] = offsets[t] + (labelSizes == null ? topK : labelSizes[t]);
        }
        return offsets;
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
                finishReason);
    }

    /** This row with the optional text columns. */
    public SoftLabelRow withText(TextSpans spans) {
        return new SoftLabelRow(
                sampleId,
                promptIndex,
                sampleIndex,
                promptIds,
                completionIds,
                completionLogprobs,
                topkIds,
                topkLogprobs,
                finishReason,
                labelSizes,
                labelCounts,
                spans);
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
                && Arrays.equals(labelSizes, r.labelSizes)
                && Arrays.equals(labelCounts, r.labelCounts)
                && Objects.equals(text, r.text);
    }

    @Override
    public int hashCode() {
        int h = Objects.hash(sampleId, promptIndex, sampleIndex, finishReason);
        h = 31 * h + Arrays.hashCode(promptIds);
        h = 31 * h + Arrays.hashCode(completionIds);
        h = 31 * h + Arrays.hashCode(completionLogprobs);
        h = 31 * h + Arrays.hashCode(topkIds);
        h = 31 * h + Arrays.hashCode(topkLogprobs);
        h = 31 * h + Arrays.hashCode(labelSizes);
        h = 31 * h + Objects.hashCode(text);
        return 31 * h + Arrays.hashCode(labelCounts);
    }

    @Override
    public String toString() {
        return "SoftLabelRow[" + sampleId + ", prompt " + promptIds.length + " tokens, completion "
                + completionIds.length + " tokens, top-k values " + topkIds.length + ", " + finishReason
                + (text == null ? "" : ", " + text) + "]";
    }
}
