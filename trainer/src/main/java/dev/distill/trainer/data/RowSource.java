package dev.distill.trainer.data;

/** A stream of training rows with a resumable position: one data set ({@link RowStream}) or a weighted mix. */
public interface RowSource extends AutoCloseable {
    /** The next row, or null when the stream is exhausted. */
    PositionedRow next();

    /** The position of the next row {@link #next()} returns. */
    DataPosition position();

    @Override
    void close();
}
