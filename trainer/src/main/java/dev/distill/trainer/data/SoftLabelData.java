package dev.distill.trainer.data;

import dev.distill.data.LogitsSpec;
import dev.distill.data.RunDirectory;
import dev.distill.data.ShardReader;
import dev.distill.data.ShardSchema;
import dev.distill.prompts.PromptEncoder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
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
    private final LogitsSpec logits;
    private final long rows;

    private SoftLabelData(List<String> locations, List<ShardRef> shards, int topK, LogitsSpec logits, long rows) {
        this.locations = locations;
        this.shards = shards;
        this.topK = topK;
        this.logits = logits;
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
        return open(locations, option, null);
    }

    /**
     * {@link #open(List, String)} where a location may also be a prompt/response corpus file (JSONL, text or
     * Parquet records as 'distill generate --mode score' reads them), given as rows without soft labels.
     *
     * @param corpusEncoder turns corpus records into ids; null refuses corpus files (offline training needs soft labels)
     */
    public static SoftLabelData open(List<String> locations, String option, PromptEncoder corpusEncoder) {
        if (locations.isEmpty()) {
            throw new IllegalArgumentException(option + ": give at least one soft-label run directory");
        }
        List<ShardRef> shards = new ArrayList<>();
        long rows = 0;
        try {
            for (String location : locations) {
                if (!location.contains("://") && Files.isRegularFile(java.nio.file.Path.of(location))) {
                    if (corpusEncoder == null) {
                        throw new IllegalArgumentException(
                                option + " " + location + ": a prompt/response corpus has no soft"
                                        + " labels; train on it with an online teacher (--teacher DIR), or label it with 'distill"
                                        + " generate --mode score' first");
                    }
                    CorpusFile corpus = new CorpusFile(java.nio.file.Path.of(location), corpusEncoder);
                    ShardRef ref = new ShardRef(location, new Path(location), null, corpus.count(), corpus);
                    shards.add(ref);
                    rows += ref.rows();
                    continue;
                }
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
                                    + " configuration than its run (config_hash "
                                    + ref.metadata().configHash()
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
        List<ShardRef> labelled =
                shards.stream().filter(s -> s.corpus() == null).toList();
        ShardRef first = labelled.isEmpty() ? null : labelled.get(0);
        for (ShardRef s : labelled) {
            if (s.metadata().topK() != first.metadata().topK()) {
                throw new IllegalArgumentException(option + ": shards have different top-k: " + first.label() + " has "
                        + first.metadata().topK() + ", " + s.label() + " has "
                        + s.metadata().topK()
                        + "; train on data generated with one --top-k");
            }
            if (!s.metadata().logits().equals(first.metadata().logits())) {
                throw new IllegalArgumentException(
                        option + ": shards have different --logits: " + first.label() + " has "
                                + first.metadata().logits() + ", " + s.label() + " has "
                                + s.metadata().logits()
                                + "; train on data generated with one --logits");
            }
        }
        return new SoftLabelData(
                List.copyOf(locations),
                List.copyOf(shards),
                first == null ? 0 : first.metadata().topK(),
                first == null ? null : first.metadata().logits(),
                rows);
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

    /** What every shard stores of the teacher's distributions ({@code --logits}); null when the data is only corpus files. */
    public LogitsSpec logits() {
        return logits;
    }

    /** The most entries a position holds in every shard (k, KMAX or N; 0 when the data is only corpus files). */
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
            if (s.corpus() != null) {
                continue; // tokenized with the student's own tokenizer
            }
            String dataSha = s.metadata().tokenizerSha256();
            if (!dataSha.equals(modelSha256)) {
                throw new IllegalArgumentException("tokenizer mismatch: " + s.label()
                        + " was generated with tokenizer sha256 "
                        + dataSha + ", but the " + role + " " + modelDir + " has tokenizer sha256 " + modelSha256
                        + "; use soft labels generated with the " + role + "'s tokenizer");
            }
        }
    }
}
