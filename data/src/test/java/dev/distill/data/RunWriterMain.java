package dev.distill.data;

import java.nio.file.Path;

/**
 * A worker process for the crash test: writes a run's shards in order, and in shard {@code stopIn} writes half the
 * rows, prints "writing" and waits to be killed.
 */
public final class RunWriterMain {
    private RunWriterMain() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        RunDirectory run = TestRuns.open(dir, Long.parseLong(args[1]), Integer.parseInt(args[2]));
        int stopIn = Integer.parseInt(args[3]);
        for (int i : run.pendingShards(1, 0)) {
            if (i == stopIn) {
                ShardWriter w = run.openShard(i, TestRows.metadata(run.configHash()), 8 << 10);
                long[] range = run.shardRange(i);
                TestRuns.writeRows(run, i, w, (range[0] + range[1]) / 2);
                System.out.println("writing " + i);
                System.out.flush();
                Thread.sleep(60_000);
                return;
            }
            TestRuns.writeShard(run, i);
            System.out.println("committed " + i);
        }
    }
}
