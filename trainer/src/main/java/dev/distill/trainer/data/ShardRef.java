package dev.distill.trainer.data;

import dev.distill.data.ShardMetadata;
import org.apache.hadoop.fs.Path;

/**
 * One committed shard of a soft-label run directory, with its footer metadata and row count; or a prompt/response
 * corpus file read as rows without soft labels ({@code corpus} set, {@code metadata} null).
 */
public record ShardRef(String runLocation, Path file, ShardMetadata metadata, long rows, CorpusFile corpus) {
    /** A shard of a run directory. */
    public ShardRef(String runLocation, Path file, ShardMetadata metadata, long rows) {
        this(runLocation, file, metadata, rows, null);
    }

    /** {@code <run dir>/<file name>}, for messages. */
    public String label() {
        return runLocation + "/" + file.getName();
    }
}
