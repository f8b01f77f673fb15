package dev.distill.pipeline;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Groups work items of similar length into batches under a token budget: a batch of B items whose
 * longest span is L costs B x L tokens of KV cache and activations, and must stay within
 * {@code maxBatchTokens} (an item longer than the budget runs alone).
 */
public final class BatchPlanner {
    private final int maxBatchTokens;
    private final int maxBatchSize;

    public BatchPlanner(int maxBatchTokens, int maxBatchSize) {
        if (maxBatchTokens < 1 || maxBatchSize < 1) {
            throw new IllegalArgumentException("--max-batch-tokens and the batch size must be positive");
        }
        this.maxBatchTokens = maxBatchTokens;
        this.maxBatchSize = maxBatchSize;
    }

    /** Batches in a deterministic order: items sorted by span, ties by (prompt, sample). */
    public List<List<WorkItem>> plan(List<WorkItem> items) {
        List<WorkItem> sorted = new ArrayList<>(items);
        sorted.sort(Comparator.comparingInt(WorkItem::tokenSpan)
                .thenComparingLong(WorkItem::promptIndex)
                .thenComparingInt(WorkItem::sampleIndex));
        List<List<WorkItem>> batches = new ArrayList<>();
        List<WorkItem> current = new ArrayList<>();
        int longest = 0;
        for (WorkItem item : sorted) {
            int span = Math.max(longest, item.tokenSpan());
            if (!current.isEmpty()
                    && ((long) span * (current.size() + 1) > maxBatchTokens || current.size() == maxBatchSize)) {
                batches.add(current);
                current = new ArrayList<>();
                span = item.tokenSpan();
            }
            current.add(item);
            longest = span;
        }
        if (!current.isEmpty()) {
            batches.add(current);
        }
        return batches;
    }
}
