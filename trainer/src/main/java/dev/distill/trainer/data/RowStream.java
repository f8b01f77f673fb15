package dev.distill.trainer.data;

import dev.distill.data.RowChecker;
import dev.distill.data.ShardReader;
import dev.distill.data.ShardSchema;
import dev.distill.data.SoftLabelRow;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The rows of a data set as a stream over epochs, in a seeded order, with memory bounded by one
 * shard reader (one row group) plus the shuffle buffer, whatever the data size.
 *
 * <p>Order of epoch e: the shard list is permuted with an RNG seeded by (seed, e); rows are read
 * shard after shard and pass through a buffer of {@code bufferRows} rows, from which the RNG picks
 * the next row uniformly. A buffer of 1 keeps file order (with {@code shuffleShards} false: the
 * order of the data as given, for evaluation). The order depends on the seed, the epoch and the
 * shards' row counts only, never on row contents or on what was read before, so a stream started at
 * a {@link DataPosition} replays its epoch up to that row and continues exactly as an uninterrupted
 * stream would.
 */
public final class RowStream implements RowSource {
    private final List<ShardRef> shards;
    private final List<String> columns;
    private final long seed;
    private final int bufferRows;
    private final boolean shuffleShards;
    private final long epochs;
    private final long rowsPerEpoch;

    private long epoch;
    private long rowInEpoch;
    private SplittableRandom rng;
    private Iterator<ShardRef> shardOrder;
    private ShardRef currentShard;
    private ShardReader reader;
    private CorpusFile.Rows corpusRows;
    private Iterator<SoftLabelRow> rows;
    /** The current shard's row checker (null when only some columns are read) and the next row's number in it. */
    private RowChecker checker;

    private long rowInShard;
    private final List<Buffered> buffer = new ArrayList<>();

    /** A row waiting in the shuffle buffer; it gets its position when it leaves. */
    private record Buffered(SoftLabelRow row, ShardRef shard) {}

    /**
     * The training stream: shards permuted per epoch, rows mixed through the shuffle buffer.
     *
     * @param epochs epochs to stream, or {@code Long.MAX_VALUE} to cycle without end
     * @param start where to begin
     */
    public static RowStream shuffled(
            SoftLabelData data, List<String> columns, long seed, int bufferRows, long epochs, DataPosition start) {
        return new RowStream(data, columns, seed, bufferRows, true, epochs, Long.MAX_VALUE, start);
    }

    /** The data in the order given (directories, then shards, then rows), once, at most {@code maxRows} rows. */
    public static RowStream inOrder(SoftLabelData data, long maxRows) {
        return inOrder(data, ShardSchema.COLUMNS, maxRows);
    }

    /** {@link #inOrder(SoftLabelData, long)} reading {@code columns}. */
    public static RowStream inOrder(SoftLabelData data, List<String> columns, long maxRows) {
        return new RowStream(data, columns, 0, 1, false, 1, maxRows, DataPosition.START);
    }

    /**
     * @param columns the columns to read (names from {@code ShardSchema}); others come back empty
     * @param bufferRows rows in the shuffle buffer, >= 1
     * @param shuffleShards whether each epoch permutes the shard order
     * @param epochs epochs to stream, or {@code Long.MAX_VALUE} to cycle without end
     * @param rowsPerEpoch at most this many rows of each epoch
     * @param start where to begin: rows of its epoch before it are read and dropped
     */
    private RowStream(
            SoftLabelData data,
            List<String> columns,
            long seed,
            int bufferRows,
            boolean shuffleShards,
            long epochs,
            long rowsPerEpoch,
            DataPosition start) {
        if (bufferRows < 1) {
            throw new IllegalArgumentException("shuffle buffer: expected >= 1 rows, got " + bufferRows);
        }
        this.shards = data.shards();
        this.columns = List.copyOf(columns);
        this.seed = seed;
        this.bufferRows = bufferRows;
        this.shuffleShards = shuffleShards;
        this.epochs = epochs;
        this.rowsPerEpoch = rowsPerEpoch;
        startEpoch(start.epoch());
        while (epoch < epochs && rowInEpoch < start.row()) {
            if (nextInEpoch() == null) {
                throw new IllegalArgumentException("data position " + start + " is beyond the end of epoch " + epoch
                        + " (" + rowInEpoch + " rows): the data changed since the checkpoint was written");
            }
        }
    }

    /** The next row, or null when the last epoch is exhausted. */
    @Override
    public PositionedRow next() {
        while (epoch < epochs) {
            PositionedRow row = nextInEpoch();
            if (row != null) {
                return row;
            }
            startEpoch(epoch + 1);
        }
        return null;
    }

    /** The next row of the current epoch, or null at its end. */
    private PositionedRow nextInEpoch() {
        if (rowInEpoch >= rowsPerEpoch) {
            return null;
        }
        fill();
        if (buffer.isEmpty()) {
            return null;
        }
        int pick = buffer.size() == 1 ? 0 : rng.nextInt(buffer.size());
        Buffered chosen = buffer.get(pick);
        buffer.set(pick, buffer.get(buffer.size() - 1));
        buffer.remove(buffer.size() - 1);
        return new PositionedRow(chosen.row(), chosen.shard(), new DataPosition(epoch, rowInEpoch++));
    }

    /** The position of the next row {@link #next()} returns. */
    @Override
    public DataPosition position() {
        return new DataPosition(epoch, rowInEpoch);
    }

    private void startEpoch(long e) {
        closeReader();
        epoch = e;
        rowInEpoch = 0;
        rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + e);
        List<ShardRef> order = new ArrayList<>(shards);
        if (shuffleShards) {
            for (int i = order.size() - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1);
                order.set(i, order.set(j, order.get(i)));
            }
        }
        shardOrder = order.iterator();
        buffer.clear();
    }

    /** Tops the buffer up to its size from the shards, in order. */
    private void fill() {
        while (buffer.size() < bufferRows) {
            SoftLabelRow row = nextFromShards();
            if (row == null) {
                return;
            }
            buffer.add(new Buffered(row, currentShard));
        }
    }

    private SoftLabelRow nextFromShards() {
        try {
            while (rows == null || !rows.hasNext()) {
                closeReader();
                if (!shardOrder.hasNext()) {
                    return null;
                }
                currentShard = shardOrder.next();
                if (currentShard.corpus() != null) {
                    corpusRows = currentShard.corpus().open();
                    rows = corpusRows;
                    checker = null;
                } else {
                    reader = ShardReader.open(currentShard.file(), columns);
                    rows = reader.iterator();
                    checker = columns.containsAll(ShardSchema.COLUMNS)
                            ? checker(currentShard).decodedWithStep(reader.compactStep())
                            : null;
                }
                rowInShard = 0;
            }
            SoftLabelRow row = rows.next();
            if (checker != null) {
                checker.check(rowInShard, row);
            }
            rowInShard++;
            return row;
        } catch (IOException e) {
            throw new UncheckedIOException(currentShard.label() + ": " + e.getMessage(), e);
        }
    }

    /** The format's row rules for a shard's rows: a violation (e.g. a NaN or positive log-prob) stops the run naming it. */
    private static RowChecker checker(ShardRef shard) {
        return new RowChecker(shard.label(), shard.metadata(), 0, Long.MAX_VALUE, message -> {
            throw new IllegalArgumentException(message + "; the shard breaks the format, so it is not used"
                    + " (distill validate lists every violation)");
        });
    }

    private void closeReader() {
        if (corpusRows != null) {
            corpusRows.close();
            corpusRows = null;
            rows = null;
        }
        if (reader != null) {
            try {
                reader.close();
            } catch (IOException e) {
                throw new UncheckedIOException(currentShard.label() + ": " + e.getMessage(), e);
            }
            reader = null;
            rows = null;
        }
    }

    @Override
    public void close() {
        closeReader();
        buffer.clear();
    }
}
