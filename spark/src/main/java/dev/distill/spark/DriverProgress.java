package dev.distill.spark;

import dev.distill.pipeline.Progress;
import java.time.Duration;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.util.LongAccumulator;

/** The driver's progress: a line (or a bar on a terminal) per finished shard task with shards done/total, tokens/s and ETA. */
final class DriverProgress extends SparkListener implements AutoCloseable {
    private final Progress progress;
    private final LongAccumulator tokens;
    private long tokensSeen;

    DriverProgress(int shards, LongAccumulator tokens) {
        this.progress = new Progress("spark generate", shards, "shards", Duration.ZERO);
        this.tokens = tokens;
    }

    @Override
    public synchronized void onTaskEnd(SparkListenerTaskEnd end) {
        if (end.taskInfo().successful()) {
            // The scheduler merges a task's accumulator updates before it posts the task's end.
            long now = tokens.value();
            progress.advance(1, now - tokensSeen);
            tokensSeen = now;
        }
    }

    @Override
    public void close() {
        progress.close();
    }
}
