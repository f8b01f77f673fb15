package dev.distill.trainer.data;

import dev.distill.data.RunDirectory;
import dev.distill.data.ShardReader;
import dev.distill.data.ShardSchema;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.Path;

/**
 * The soft-label run directories a training or eval run reads: their committed shards in a fixed
 * order (directories as given, shards by index), with each shard's footer metadata. Only footers are
 * read here; rows are streamed later by {@link RowStream}.
 */
public final class SoftLabelData {
    private final List<String> locations;
    private final List<ShardRef> shards;
    private final int topK;
    private final long rows;

    private SoftLabelData(List<String> locations, List<ShardRef> shards, int topK, long rows) {
        this.locations = locations;
        this.shards = shards;
        this.topK = topK;
        this.rows = rows;
    }

    /**
     * Opens complete run directories made by {@code distill generate}.
     *
     * @param option the CLI option the directories came from, for messages ({@code --data})
     * @throws IllegalArgumentException naming the directory when it is missing, has no manifest, is
     *     incomplete or holds no rows, naming a shard whose footer carries another config_hash than its run's
     *     manifest, or naming two shards whose top-k differ
     */
    public static SoftLabelData open(List<String> locations, String option) {
        if (locations.isEmpty()) {
            throw new IllegalArgumentException(option + ": give at least one soft-label run directory");
        }
        List<ShardRef> shards = new ArrayList<>();
        long rows = 0;
        try {
            for (String location : locations) {
                RunDirectory run = existing(location, option);
                List<Path> committed = run.committedShards();
                if (committed.size() != run.shardCount()) {
                    throw new IllegalArgumentException(option + " " + location + ": the run is incomplete ("
                            + committed.size() + " of " + run.shardCount()
                            + " shards committed); finish it with 'distill generate' first");
                }
                for (Path file : committed) {
                    try (ShardReader reader = ShardReader.open(file, List.of(ShardSchema.PROMPT_INDEX))) {
                        ShardRef ref = new ShardRef(location, file, reader.metadata(), reader.rowCount());
                        if (!ref.metadata().configHash().equals(run.configHash())) {
                            throw new IllegalArgumentException(option + ": " + ref.label() + " was made with another"
                                    + " configuration than its run (config_hash " + ref.metadata().configHash()
                                    + ", manifest.json " + run.configHash() + "): the run mixes configurations;"
                                    + " 'distill validate " + location + "' lists them");
                        }
                        shards.add(ref);
                        rows += ref.rows();
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(option + ": " + e.getMessage(), e);
        }
        if (rows == 0) {
            throw new IllegalArgumentException(option + " " + String.join(",", locations) + ": the data holds no rows");
        }
        ShardRef first = shards.get(0);
        for (ShardRef s : shards) {
            if (s.metadata().topK() != first.metadata().topK()) {
                throw new IllegalArgumentException(option + ": shards have different top-k: " + first.label() + " has "
                        + first.metadata().topK() + ", " + s.label() + " has " + s.metadata().topK()
                        + "; train on data generated with one --top-k");
            }
        }
        return new SoftLabelData(List.copyOf(locations), List.copyOf(shards), first.metadata().topK(), rows);
    }

    private static RunDirectory existing(String location, String option) throws IOException {
        try {
            return RunDirectory.existing(location);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(option + ": " + e.getMessage(), e);
        }
    }

    /** The run directories, as given. */
    public List<String> locations() {
        return locations;
    }

    /** Every shard, directories in the given order, shards by index. */
    public List<ShardRef> shards() {
        return shards;
    }

    /** The top-k of every shard. */
    public int topK() {
        return topK;
    }

    /** Rows over all shards. */
    public long rows() {
        return rows;
    }

    /** Whether any shard was made with another tokenizer than the one hashing to {@code modelSha256}. */
    public boolean tokenizerDiffers(String modelSha256) {
        return shards.stream().anyMatch(s -> !s.metadata().tokenizerSha256().equals(modelSha256));
    }

    /**
     * Refuses data made with another tokenizer than the model's: compares each shard's
     * {@code distill.tokenizer_sha256} with the model directory's tokenizer hash. The size of the
     * embedding matrix is not compared (a model may pad its vocabulary beyond the tokenizer's).
     *
     * @param modelSha256 the model directory's tokenizer hash (tokenizer.json + tokenizer_config.json)
     * @param modelDir the model directory, for the message
     * @param role "student" or "model", for the message
     */
    public void requireTokenizer(String modelSha256, java.nio.file.Path modelDir, String role) {
        for (ShardRef s : shards) {
            String dataSha = s.metadata().tokenizerSha256();
            if (!dataSha.equals(modelSha256)) {
                throw new IllegalArgumentException("tokenizer mismatch: " + s.label() + " was generated with tokenizer sha256 "
                        + dataSha + ", but the " + role + " " + modelDir + " has tokenizer sha256 " + modelSha256
                        + "; use soft labels generated with the " + role + "'s tokenizer");
            }
        }
    }
}
