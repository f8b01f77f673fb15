package dev.distill.trainer.data;

import dev.distill.data.ShardMetadata;
import org.apache.hadoop.fs.Path;

/** One committed shard of a soft-label run directory, with its footer metadata and row count. */
public record ShardRef(String runLocation, Path file, ShardMetadata metadata, long rows) {
    /** {@code <run dir>/<file name>}, for messages. */
    public String label() {
        return runLocation + "/" + file.getName();
    }
}
