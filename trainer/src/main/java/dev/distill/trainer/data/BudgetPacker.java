package dev.distill.trainer.data;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.ToIntFunction;

/**
 * Packs stream rows, each turned into a batch item by {@code admit}, into lists by a token budget: items are added in
 * stream order while the sum of their budgets stays within {@code batchTokens}; an item larger than the budget forms
 * a list alone. Rows that {@code admit} drops (null: nothing to train on) still count as consumed.
 *
 * @param <R> the batch item (a {@link TrainRow}, or a row re-tokenized for another student)
 */
public final class BudgetPacker<R> {
    private final RowSource stream;
    private final Function<PositionedRow, R> admit;
    private final ToIntFunction<R> budget;
    private final Function<R, PositionedRow> source;
    private final int batchTokens;
    private final long rowsPerEpoch;
    private final String context;
    private R pending;

    /**
     * @param source the stream row an item came from (for {@link #position()})
     * @param rowsPerEpoch rows in one epoch, to detect data with no trainable row at all
     * @param context what limits the rows, for the message when none can be trained on (e.g. "student's context of
     *     256 positions")
     */
    public BudgetPacker(
            RowSource stream,
            Function<PositionedRow, R> admit,
            ToIntFunction<R> budget,
            Function<R, PositionedRow> source,
            int batchTokens,
            long rowsPerEpoch,
            String context) {
        if (batchTokens < 1) {
            throw new IllegalArgumentException("--batch-tokens: expected a positive number, got " + batchTokens);
        }
        this.stream = stream;
        this.admit = admit;
        this.budget = budget;
        this.source = source;
        this.batchTokens = batchTokens;
        this.rowsPerEpoch = rowsPerEpoch;
        this.context = context;
    }

    /** The next list of items, or null when the stream is exhausted. */
    public List<R> next() {
        List<R> items = new ArrayList<>();
        long used = 0;
        while (used < batchTokens) {
            R r = pending != null ? pending : draw();
            pending = null;
            if (r == null) {
                break;
            }
            if (!items.isEmpty() && used + budget.applyAsInt(r) > batchTokens) {
                pending = r;
                break;
            }
            items.add(r);
            used += budget.applyAsInt(r);
        }
        return items.isEmpty() ? null : items;
    }

    /** The position of the first row not yet handed out: a stream started there continues with the same lists. */
    public DataPosition position() {
        return pending != null ? source.apply(pending).position() : stream.position();
    }

    private R draw() {
        long dropped = 0;
        for (PositionedRow p = stream.next(); p != null; p = stream.next()) {
            R r = admit.apply(p);
            if (r != null) {
                return r;
            }
            if (++dropped > rowsPerEpoch) {
                throw new IllegalArgumentException(
                        "no row of the data has a completion token to train on within the " + context);
            }
        }
        return null;
    }
}
