package dev.distill.pipeline;

/**
 * What the teacher produced for one work item: the completion (generated or scored), the
 * log-probability of each completion token at temperature 1, and the top-k ids/log-probs at each
 * completion position, flattened row-major [len(completion) x k].
 */
public record TeacherOutput(
        WorkItem item, int[] completionIds, float[] completionLogprobs, int[] topkIds, float[] topkLogprobs,
        String finishReason) {}
