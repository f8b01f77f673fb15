package dev.distill.trainer.data;

import java.util.List;

/**
 * Groups stream rows into micro-batches by a token budget: rows are added in stream order while the
 * sum of their prompt + completion lengths stays within {@code batchTokens}; a row longer than the
 * budget forms a batch alone. Rows with nothing to train on are dropped (they still count as consumed).
 */
public final class TokenBudgetBatcher {
    private final BudgetPacker<TrainRow> packer;
    private final int topK;

    /** @param rowsPerEpoch rows in one epoch, to detect data with no trainable row at all */
    public TokenBudgetBatcher(RowSource stream, RowLimits limits, int batchTokens, long rowsPerEpoch) {
        this.packer = new BudgetPacker<>(
                stream,
                limits::admit,
                TrainRow::budgetTokens,
                TrainRow::source,
                batchTokens,
                rowsPerEpoch,
                limits.role() + "'s context of " + limits.maxPositions() + " positions");
        this.topK = limits.topK();
    }

    /** The next micro-batch, or null when the stream is exhausted. */
    public MicroBatch next() {
        List<TrainRow> rows = packer.next();
        return rows == null ? null : new MicroBatch(rows, topK);
    }

    /**
     * The position of the first row not yet handed out in a batch: a stream started there continues
     * with exactly the batches this batcher would produce next.
     */
    public DataPosition position() {
        return packer.position();
    }
}
