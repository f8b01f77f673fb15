package dev.distill.trainer.data;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A weighted mix of several data sets ({@code --data A:0.7,B:0.3}): each row comes from data set i with probability
 * w_i, drawn by an RNG seeded by the run's seed; each data set streams on its own, shuffled as {@link RowStream} does
 * with a seed of its own, cycling through its epochs without end. The mix has one epoch with no end, and its position
 * is the number of rows drawn: a stream started at a position redraws (and drops) the rows before it, so it continues
 * exactly as an uninterrupted stream would.
 */
public final class MixedRowStream implements RowSource {
    private final List<RowStream> sources = new ArrayList<>();
    private final double[] cumulative;
    private final SplittableRandom rng;
    private long drawn;

    /**
     * @param sets the data sets, one per weight
     * @param weights the mixing weights, normalised
     * @param start where to begin (epoch 0)
     */
    public MixedRowStream(
            List<SoftLabelData> sets,
            double[] weights,
            List<String> columns,
            long seed,
            int bufferRows,
            DataPosition start) {
        if (start.epoch() != 0) {
            throw new IllegalArgumentException("data position " + start + ": a mixed stream has a single epoch");
        }
        cumulative = new double[weights.length];
        double c = 0;
        for (int i = 0; i < weights.length; i++) {
            c += weights[i];
            cumulative[i] = c;
            sources.add(RowStream.shuffled(
                    sets.get(i), columns, seed * 31 + i + 1, bufferRows, Long.MAX_VALUE, DataPosition.START));
        }
        rng = new SplittableRandom(seed ^ 0x5DEECE66DL);
        while (drawn < start.row()) {
            next();
        }
    }

    @Override
    public PositionedRow next() {
        double u = rng.nextDouble() * cumulative[cumulative.length - 1];
        int i = 0;
        while (i < cumulative.length - 1 && u >= cumulative[i]) {
            i++;
        }
        PositionedRow r = sources.get(i).next();
        return new PositionedRow(r.row(), r.shard(), new DataPosition(0, drawn++));
    }

    @Override
    public DataPosition position() {
        return new DataPosition(0, drawn);
    }

    @Override
    public void close() {
        sources.forEach(RowStream::close);
    }
}
