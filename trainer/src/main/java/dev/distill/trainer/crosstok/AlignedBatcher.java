package dev.distill.trainer.crosstok;

import dev.distill.trainer.data.DataPosition;
import dev.distill.trainer.data.PositionedRow;
import dev.distill.trainer.data.RowStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Groups stream rows, re-tokenized for the student, into micro-batches by the student's token budget (prompt +
 * completion tokens), as {@code TokenBudgetBatcher} does for same-tokenizer rows: a row longer than the budget forms a
 * batch alone; rows with nothing to train on are dropped (they still count as consumed).
 */
public final class AlignedBatcher {
    private final RowStream stream;
    private final Retokenizer retokenizer;
    private final int batchTokens;
    private final int topK;
    private final long rowsPerEpoch;
    private AlignedRow pending;

    public AlignedBatcher(RowStream stream, Retokenizer retokenizer, int batchTokens, int topK, long rowsPerEpoch) {
        this.stream = stream;
        this.retokenizer = retokenizer;
        this.batchTokens = batchTokens;
        this.topK = topK;
        this.rowsPerEpoch = rowsPerEpoch;
    }

    /** The next micro-batch, or null when the stream is exhausted. */
    public AlignedBatch next() {
        List<AlignedRow> rows = new ArrayList<>();
        long budget = 0;
        while (budget < batchTokens) {
            AlignedRow r = pending != null ? pending : draw();
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
        return rows.isEmpty() ? null : new AlignedBatch(rows, topK);
    }

    /** The position of the first row not yet handed out in a batch. */
    public DataPosition position() {
        return pending != null ? pending.source().position() : stream.position();
    }

    private AlignedRow draw() {
        long dropped = 0;
        for (PositionedRow p = stream.next(); p != null; p = stream.next()) {
            AlignedRow r = retokenizer.align(p);
            if (r != null) {
                return r;
            }
            if (++dropped > rowsPerEpoch) {
                throw new IllegalArgumentException("no row of the data has a completion token to train on within the"
                        + " student's context");
            }
        }
        return null;
    }
}
