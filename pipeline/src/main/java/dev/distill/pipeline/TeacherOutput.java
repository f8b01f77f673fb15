package dev.distill.pipeline;

/**
 * What the teacher produced for one work item: the completion (generated or scored), the log-probability of each
 * completion token at temperature 1, and the stored label entries of each completion position, position after
 * position ({@code topkIds}/{@code topkLogprobs}), with {@code labelSizes} entries per position (null: top_k at
 * every position), the draw counts of {@code sample:N} (else null) and per position {@code fidelity}
 * {@code [n × 3]}: covered mass, entropy, KL(full || stored) (null when not measured).
 */
public record TeacherOutput(
        WorkItem item,
        int[] completionIds,
        float[] completionLogprobs,
        int[] topkIds,
        float[] topkLogprobs,
        String finishReason,
        int[] labelSizes,
        int[] labelCounts,
        float[] fidelity) {

    /** An output of fixed top-k width, without fidelity. */
    public TeacherOutput(
            WorkItem item,
            int[] completionIds,
            float[] completionLogprobs,
            int[] topkIds,
            float[] topkLogprobs,
            String finishReason) {
        this(item, completionIds, completionLogprobs, topkIds, topkLogprobs, finishReason, null, null, null);
    }

    /** An output whose entries come from {@code labels}. */
    static TeacherOutput of(
            WorkItem item, int[] completionIds, float[] completionLogprobs, LabelBuffer labels, String finishReason) {
        return new TeacherOutput(
                item,
                completionIds,
                completionLogprobs,
                labels.ids(),
                labels.logprobs(),
                finishReason,
                labels.sizes(),
                labels.counts(),
                labels.fidelity());
    }
}
