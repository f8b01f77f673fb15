package dev.distill.trainer.data;

/**
 * Where a training run is in its data stream: the epoch, and how many rows of that epoch's shuffled
 * order are consumed. The order of an epoch is a pure function of (seed, epoch), so this pair
 * restores the stream exactly.
 */
public record DataPosition(long epoch, long row) {
    /** The start of the first epoch. */
    public static final DataPosition START = new DataPosition(0, 0);

    public DataPosition {
        if (epoch < 0 || row < 0) {
            throw new IllegalArgumentException("data position: epoch and row must be >= 0, got " + epoch + ", " + row);
        }
    }
}
