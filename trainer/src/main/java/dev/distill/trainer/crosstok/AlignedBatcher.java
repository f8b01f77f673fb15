package dev.distill.trainer.crosstok;

import dev.distill.trainer.data.BudgetPacker;
import dev.distill.trainer.data.DataPosition;
import dev.distill.trainer.data.RowSource;
import java.util.List;

/**
 * Groups stream rows, re-tokenized for the student, into micro-batches by the student's token budget (prompt +
 * completion tokens), as {@code TokenBudgetBatcher} does for same-tokenizer rows ({@link BudgetPacker}).
 */
public final class AlignedBatcher {
    private final BudgetPacker<AlignedRow> packer;
    private final int topK;

    public AlignedBatcher(RowSource stream, Retokenizer retokenizer, int batchTokens, int topK, long rowsPerEpoch) {
        this.packer = new BudgetPacker<>(
                stream,
                retokenizer::align,
                AlignedRow::budgetTokens,
                AlignedRow::source,
                batchTokens,
                rowsPerEpoch,
                "student's context");
        this.topK = topK;
    }

    /** The next micro-batch, or null when the stream is exhausted. */
    public AlignedBatch next() {
        List<AlignedRow> rows = packer.next();
        return rows == null ? null : new AlignedBatch(rows, topK);
    }

    /** The position of the first row not yet handed out in a batch. */
    public DataPosition position() {
        return packer.position();
    }
}
