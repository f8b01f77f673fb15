package dev.distill.data;

import java.io.IOException;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.parquet.schema.MessageType;

/**
 * Reads one shard: its footer metadata, and its rows streamed one row group at a time. The rows can be iterated
 * once; a projection reads only some columns (the others come back empty, 0 or null).
 */
public final class ShardReader implements Iterable<SoftLabelRow>, AutoCloseable {
    private final Path file;
    private final ParquetFileReader reader;
    private final MessageType requested;
    private final double compactStep;
    private boolean iterated;

    private ShardReader(Path file, ParquetFileReader reader, MessageType requested, double compactStep) {
        this.file = file;
        this.reader = reader;
        this.requested = requested;
        this.compactStep = compactStep;
    }

    /** Opens a shard for reading every column. */
    public static ShardReader open(String location) throws IOException {
        return open(HadoopFs.path(location), ShardSchema.COLUMNS);
    }

    /**
     * Opens a shard of format version 1 or 2, plain or compact, for reading the logical {@code columns} (names from
     * {@link ShardSchema}); a version-1 shard gives null label sizes and counts. Columns the file has beyond its
     * version's are ignored.
     *
     * @throws IOException naming the file when it is missing or not a readable Parquet file
     * @throws IllegalArgumentException naming the file and column when a column is missing or of another type, or
     *     the file's format version when this build cannot read it
     */
    public static ShardReader open(Path file, List<String> columns) throws IOException {
        ParquetFileReader reader = ParquetRecords.openFile(file, HadoopFs.conf());
        try {
            Map<String, String> kv = reader.getFileMetaData().getKeyValueMetaData();
            String version = kv.getOrDefault(ShardMetadata.KEY_SCHEMA_VERSION, "");
            MessageType expected = ShardSchema.SCHEMA;
            List<String> physical = columns;
            double step = Double.NaN;
            if (version.equals("1")) {
                expected = ShardSchema.SCHEMA_V1;
                physical = columns.stream()
                        .filter(c -> !ShardSchema.V2_ONLY.contains(c))
                        .toList();
            } else if (version.equals("2")) {
                if (LabelEncoding.COMPACT.spelling().equals(kv.get(ShardMetadata.KEY_ENCODING))) {
                    expected = CompactLabels.SCHEMA;
                    physical = CompactLabels.physicalColumns(columns);
                    step = compactStep(kv, file.getName());
                }
            } else if (!version.isEmpty()) {
                ShardMetadata.fromKeyValues(kv, file.getName()); // throws, naming the file and the version
            }
            MessageType requested =
                    ShardSchema.project(reader.getFileMetaData().getSchema(), expected, physical, file.getName());
            return new ShardReader(file, reader, requested, step);
        } catch (RuntimeException e) {
            reader.close();
            throw e;
        }
    }

    /** The file's {@code distill.*} metadata, parsed; throws IllegalArgumentException naming the file and key when malformed. */
    public ShardMetadata metadata() {
        return ShardMetadata.fromKeyValues(keyValueMetadata(), file.getName());
    }

    private static double compactStep(Map<String, String> kv, String source) {
        try {
            double step = Double.parseDouble(kv.getOrDefault(CompactLabels.KEY_LOGPROB_STEP, ""));
            if (step > 0 && Double.isFinite(step)) {
                return step;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(source + ": footer metadata " + CompactLabels.KEY_LOGPROB_STEP
                + " is missing or not a positive number: '" + kv.get(CompactLabels.KEY_LOGPROB_STEP) + "'");
    }

    /** The shard's fidelity summary (version 2), or null for a version-1 shard. */
    public Fidelity fidelity() {
        String value = keyValueMetadata().get(Fidelity.KEY);
        return value == null ? null : Fidelity.fromFooterValue(value, file.getName());
    }

    /** Every key-value pair of the footer. */
    public Map<String, String> keyValueMetadata() {
        return reader.getFileMetaData().getKeyValueMetaData();
    }

    /** The compact encoding's quantisation step in nats (from the footer), or NaN for a plain shard. */
    public double compactStep() {
        return compactStep;
    }

    /** Rows in the file, from the footer. */
    public long rowCount() {
        return reader.getRecordCount();
    }

    /** Row groups in the file. */
    public List<BlockMetaData> rowGroups() {
        return reader.getRowGroups();
    }

    /** The file's Parquet schema. */
    public MessageType fileSchema() {
        return reader.getFileMetaData().getSchema();
    }

    /** The rows, streamed; may be called once. Read errors surface as UncheckedIOException naming the file and row. */
    @Override
    public Iterator<SoftLabelRow> iterator() {
        if (iterated) {
            throw new IllegalStateException(file.getName() + ": rows can be iterated once per reader");
        }
        iterated = true;
        return new ParquetRecords<>(
                reader, requested, new SoftLabelMaterializer(requested, compactStep), file.getName());
    }

    @Override
    public void close() throws IOException {
        reader.close();
    }
}
