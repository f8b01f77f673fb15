package dev.distill.data;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/** Writes deterministic runs for tests: 2 samples per prompt, every prompt with index % 7 == 3 skipped. */
public final class TestRuns {
    public static final int SAMPLES = 2;

    private TestRuns() {}

    public static ObjectNode config(int topK, long seed) {
        ObjectNode c = new ObjectMapper().createObjectNode();
        c.put("teacher", "/models/tiny");
        c.put("top_k", topK);
        c.put("seed", seed);
        c.put("samples_per_prompt", SAMPLES);
        return c;
    }

    public static RunDirectory open(Path dir, long prompts, int shardSize) throws IOException {
        return RunDirectory.open(dir.toString(), config(TestRows.K, 0), prompts, shardSize);
    }

    public static void writeShard(RunDirectory run, int i) throws IOException {
        try (ShardWriter w = run.openShard(i, TestRows.metadata(run.configHash()), 8 << 10)) {
            writeRows(run, i, w, Long.MAX_VALUE);
            w.commit();
        }
    }

    /** Writes shard {@code i}'s rows for prompts below {@code stopAt}. */
    public static void writeRows(RunDirectory run, int i, ShardWriter w, long stopAt) throws IOException {
        long[] range = run.shardRange(i);
        for (long p = range[0]; p < Math.min(range[1], stopAt); p++) {
            if (p % 7 == 3) {
                continue;
            }
            for (int s = 0; s < SAMPLES; s++) {
                w.write(TestRows.row(p, s));
            }
        }
    }

    public static void writeAll(RunDirectory run, int numWorkers, int workerIndex) throws IOException {
        for (int i : run.pendingShards(numWorkers, workerIndex)) {
            writeShard(run, i);
        }
        run.refreshManifest();
    }

    /** Every file under {@code dir} (relative path) with its SHA-256. */
    public static Map<String, String> snapshot(Path dir) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> files = Files.walk(dir)) {
            files.filter(Files::isRegularFile).forEach(f -> {
                try {
                    out.put(
                            dir.relativize(f).toString(),
                            HadoopFs.sha256(
                                    HadoopFs.fileSystem(new org.apache.hadoop.fs.Path(f.toUri())),
                                    new org.apache.hadoop.fs.Path(f.toUri())));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
        return out;
    }
}
