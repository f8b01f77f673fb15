package dev.distill.trainer.data;

import java.util.ArrayList;
import java.util.List;

/**
 * Groups stream rows into micro-batches by a token budget: rows are added in stream order while the
 * sum of their prompt + completion lengths stays within {@code batchTokens}; a row longer than the
 * budget forms a batch alone. Rows with nothing to train on are dropped (they still count as consumed).
 */
public final class TokenBudgetBatcher {
    private final RowSource stream;
    private final RowLimits limits;
    private final int batchTokens;
    private final long rowsPerEpoch;
    private TrainRow pending;

    /** @param rowsPerEpoch rows in one epoch, to detect data with no trainable row at all */
    public TokenBudgetBatcher(RowSource stream, RowLimits limits, int batchTokens, long rowsPerEpoch) {
        if (batchTokens < 1) {
            throw new IllegalArgumentException("--batch-tokens: expected a positive number, got " + batchTokens);
        }
        this.stream = stream;
        this.limits = limits;
        this.batchTokens = batchTokens;
        this.rowsPerEpoch = rowsPerEpoch;
    }

    /** The next micro-batch, or null when the stream is exhausted. */
    public MicroBatch next() {
        List<TrainRow> rows = new ArrayList<>();
        long budget = 0;
        while (budget < batchTokens) {
            TrainRow r = pending != null ? pending : draw();
            pending = null;
            if (r == null) {
                break;
            }
            if (!rows.isEmpty() && budget + r.budgetTokens() > batchTokens) {
                pending = r;
                break;
            }
            rows.add(r);
            budget += r.budgetTokens();
        }
        return rows.isEmpty() ? null : new MicroBatch(rows, limits.topK());
    }

    /**
     * The position of the first row not yet handed out in a batch: a stream started there continues
     * with exactly the batches this batcher would produce next.
     */
    public DataPosition position() {
        return pending != null ? pending.source().position() : stream.position();
    }

    private TrainRow draw() {
        long droppedInARow = 0;
        for (PositionedRow p = stream.next(); p != null; p = stream.next()) {
            TrainRow r = limits.admit(p);
            if (r != null) {
                return r;
            }
            if (++droppedInARow > rowsPerEpoch) {
                throw new IllegalArgumentException("no row of the data has a completion token to train on within the "
                        + limits.role() + "'s context of " + limits.maxPositions() + " positions");
            }
        }
        return null;
    }
}
