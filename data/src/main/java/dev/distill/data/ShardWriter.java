package dev.distill.data;

import java.io.IOException;
import java.util.Arrays;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.api.WriteSupport;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.hadoop.util.HadoopOutputFile;
import org.apache.parquet.io.OutputFile;

/**
 * Streams {@link SoftLabelRow}s into one ZSTD-compressed Parquet shard, holding at most one row group in memory.
 *
 * <p>A shard exists only once it is committed: {@link #commit()} writes the footer and (for a shard of a
 * {@link RunDirectory}) renames it into place; {@link #close()} without a commit, e.g. when an exception leaves a
 * try-with-resources block, {@linkplain #abort() aborts} and deletes the partial file.
 *
 * <p>{@link #write} checks each row against every row invariant of the format ({@link RowChecker}, the rules
 * {@code distill validate} applies: lengths, ids in the vocabulary, log-probabilities finite and {@code <= 0}, sorted
 * top-k, the shard's prompt range and order) and throws {@link IllegalArgumentException} naming the shard, row,
 * sample, field, position and value, so the shard is never committed.
 *
 * <p>Any failure while writing or committing (an I/O error, a full disk, which Hadoop's local file system reports
 * as the Error {@code FSError}) deletes the attempt's temporary file and surfaces as an {@link IOException}.
 */
public final class ShardWriter implements AutoCloseable {
    /** Default row group size: a trainer streaming a shard holds about this much compressed data per shard. */
    public static final long DEFAULT_ROW_GROUP_BYTES = 32L << 20;

    /** parquet-mr's ZSTD level setting. */
    static final String ZSTD_LEVEL_KEY = "parquet.compression.codec.zstd.level";
    /**
     * ZSTD level 9 rather than the default 3: 7-11% fewer label bytes (its longer window finds ids repeated across
     * positions), still tens of MB/s on one core; level 19 saves more but compresses at a few MB/s, slower than a
     * GPU produces labels (docs/shard-format.md).
     */
    static final int ZSTD_LEVEL = 9;

    /** Moves a finished temporary file into place; false when another writer got there first. */
    interface Publisher {
        boolean publish(ShardWriter writer, Path finishedFile) throws IOException;

        /** Whether the shard is already in place (then a failure to finish this copy is no error). */
        boolean isPublished() throws IOException;
    }

    private final Path file;
    private final String label;
    private final ShardMetadata metadata;
    private final Publisher publisher;
    private final boolean text;
    private final ParquetWriter<SoftLabelRow> parquet;
    private long rows;
    private long completionTokens;
    private final RowChecker checker;
    private boolean finished;
    private Fidelity fidelity;

    ShardWriter(
            Path file,
            String label,
            ShardMetadata metadata,
            long rowGroupBytes,
            long promptStart,
            long promptEnd,
            boolean text,
            Publisher publisher)
            throws IOException {
        if (rowGroupBytes < 1) {
            throw new IllegalArgumentException("row group size must be positive, got " + rowGroupBytes);
        }
        this.file = file;
        this.label = label;
        this.metadata = metadata;
        this.publisher = publisher;
        this.checker = new RowChecker(label, metadata, promptStart, promptEnd, message -> {
            throw new IllegalArgumentException(message);
        });
        this.text = text;
        Configuration conf = new Configuration(HadoopFs.conf());
        conf.setInt(ZSTD_LEVEL_KEY, ZSTD_LEVEL);
        HadoopFs.fileSystem(file);
        this.parquet = new Builder(
                        new StableFooterOutputFile(HadoopOutputFile.fromPath(file, conf)),
                        metadata,
                        this::finalMetadata,
                        text)
                .withConf(conf)
                .withWriteMode(ParquetFileWriter.Mode.OVERWRITE)
                .withCompressionCodec(CompressionCodecName.ZSTD)
                // Token ids over a 100k+ vocabulary and float log-probabilities gain little from dictionaries (ZSTD
                // finds the repeats) but pay for them in write time; byte-stream-split floats compress ~8% better.
                .withDictionaryEncoding(false)
                // Small-alphabet integers (quantised log-prob codes, draw counts, entries per position) do: their
                // dictionary indices are bit-packed to a few bits before ZSTD (docs/shard-format.md, measured).
                .withDictionaryEncoding(listValues(CompactLabels.LOGPROB_CODES), true)
                .withDictionaryEncoding(listValues(ShardSchema.LABEL_COUNTS), true)
                .withDictionaryEncoding(listValues(ShardSchema.LABEL_SIZES), true)
                .withByteStreamSplitEncoding(true)
                .withRowGroupSize(rowGroupBytes)
                // Rows are large (k values per token): check the buffered size after every row, not every 100.
                .withMinRowCountForPageSizeCheck(1)
                .withMaxRowCountForPageSizeCheck(1000)
                .build();
    }

    /**
     * A standalone shard file (outside a run directory) at {@code location}, replaced if it exists.
     *
     * @param rowGroupBytes row group size in bytes, e.g. {@link #DEFAULT_ROW_GROUP_BYTES}
     */
    public static ShardWriter create(String location, ShardMetadata metadata, long rowGroupBytes) throws IOException {
        return create(location, metadata, rowGroupBytes, false);
    }

    /** {@link #create(String, ShardMetadata, long)}, with the optional text columns when {@code text}. */
    public static ShardWriter create(String location, ShardMetadata metadata, long rowGroupBytes, boolean text)
            throws IOException {
        Path path = HadoopFs.path(location);
        return new ShardWriter(path, path.getName(), metadata, rowGroupBytes, 0, Long.MAX_VALUE, text, null);
    }

    /**
     * Appends one row; rows must come in (prompt_index, sample_index) order. In a version-2 shard a row without
     * {@code labelSizes} has {@code top_k} entries at every position.
     */
    public void write(SoftLabelRow row) throws IOException {
        if (finished) {
            throw new IllegalStateException(label + ": write after commit or abort");
        }
        if (metadata.schemaVersion() >= 2 && row.labelSizes() == null && row.completionIds() != null) {
            int[] sizes = new int[row.completionIds().length];
            Arrays.fill(sizes, metadata.topK());
            row = row.withLabels(sizes, row.labelCounts());
        }
        checker.check(rows, row);
        if (text && row.text() == null) {
            throw new IllegalArgumentException(label + ": row " + rows + " (sample " + row.sampleId()
                    + "): the shard stores text spans (--store-spans) but the row has none");
        }
        try {
            parquet.write(row);
        } catch (org.apache.hadoop.fs.FSError e) {
            abort();
            throw new IOException(label + ": cannot write " + file + ": " + describe(e), e);
        }
        rows++;
        completionTokens += row.completionIds().length;
    }

    /** An FSError's cause, which says what failed (e.g. "No space left on device"). */
    private static String describe(Throwable e) {
        Throwable cause = e.getCause() != null ? e.getCause() : e;
        return cause.getMessage() != null ? cause.getMessage() : cause.toString();
    }

    /** Sets the fidelity summary written into the footer (version 2) at {@link #commit()}. */
    public void setFidelity(Fidelity fidelity) {
        this.fidelity = fidelity;
    }

    /** The fidelity summary this shard's footer holds (an empty one unless set), or null in a version-1 shard. */
    public Fidelity fidelity() {
        if (metadata.schemaVersion() < 2) {
            return null;
        }
        return fidelity != null ? fidelity : new Fidelity.Accumulator().summary();
    }

    private Map<String, String> finalMetadata() {
        Fidelity f = fidelity();
        return f == null ? Map.of() : Map.of(Fidelity.KEY, f.toFooterValue());
    }

    /** Rows written so far. */
    public long rows() {
        return rows;
    }

    /** Completion tokens written so far. */
    public long completionTokens() {
        return completionTokens;
    }

    /** The footer metadata this shard carries. */
    public ShardMetadata metadata() {
        return metadata;
    }

    /**
     * Writes the footer and publishes the shard.
     *
     * @return true when this writer's file is now the shard; false when another worker committed the same shard
     *     first (its data is identical, so nothing is lost)
     */
    public boolean commit() throws IOException {
        if (finished) {
            throw new IllegalStateException(label + ": already committed or aborted");
        }
        finished = true;
        try {
            parquet.close();
        } catch (IOException | RuntimeException | org.apache.hadoop.fs.FSError e) {
            deleteQuietly();
            if (publisher != null && publisher.isPublished()) {
                return false;
            }
            if (e instanceof IOException io) {
                throw io;
            }
            if (e instanceof RuntimeException re) {
                throw re;
            }
            throw new IOException(label + ": cannot write " + file + ": " + describe(e), e);
        }
        try {
            return publisher == null || publisher.publish(this, file);
        } catch (IOException | RuntimeException e) {
            deleteQuietly();
            throw e;
        } catch (org.apache.hadoop.fs.FSError e) {
            deleteQuietly();
            throw new IOException(label + ": cannot commit " + file + ": " + describe(e), e);
        }
    }

    /** Drops the shard: its partial file is deleted. Does nothing after a commit. */
    public void abort() {
        if (finished) {
            return;
        }
        finished = true;
        try {
            parquet.close();
        } catch (IOException | RuntimeException | org.apache.hadoop.fs.FSError ignored) {
            // The file is deleted below; a failure to finish it does not matter.
        }
        deleteQuietly();
    }

    private void deleteQuietly() {
        try {
            HadoopFs.fileSystem(file).delete(file, false);
        } catch (IOException | RuntimeException | org.apache.hadoop.fs.FSError ignored) {
            // A leftover temporary file is cleaned once its shard is committed.
        }
    }

    /** Aborts unless {@link #commit()} was called. */
    @Override
    public void close() {
        abort();
    }

    /** The Parquet path of a {@code LIST<...>} column's values. */
    private static String listValues(String column) {
        return column + ".list.element";
    }

    /** The ParquetWriter builder for {@link SoftLabelWriteSupport}. */
    private static final class Builder extends ParquetWriter.Builder<SoftLabelRow, Builder> {
        private final ShardMetadata metadata;
        private final java.util.function.Supplier<Map<String, String>> finalMetadata;
        private final boolean text;

        Builder(
                OutputFile out,
                ShardMetadata metadata,
                java.util.function.Supplier<Map<String, String>> finalMetadata,
                boolean text) {
            super(out);
            this.metadata = metadata;
            this.finalMetadata = finalMetadata;
            this.text = text;
        }

        @Override
        protected Builder self() {
            return this;
        }

        @Override
        protected WriteSupport<SoftLabelRow> getWriteSupport(Configuration conf) {
            return new SoftLabelWriteSupport(metadata, finalMetadata, text);
        }
    }
}
