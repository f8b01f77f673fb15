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
    private boolean iterated;

    private ShardReader(Path file, ParquetFileReader reader, MessageType requested) {
        this.file = file;
        this.reader = reader;
        this.requested = requested;
    }

    /** Opens a shard for reading every column. */
    public static ShardReader open(String location) throws IOException {
        return open(HadoopFs.path(location), ShardSchema.COLUMNS);
    }

    /**
     * Opens a shard for reading {@code columns} (names from {@link ShardSchema}).
     *
     * @throws IOException naming the file when it is missing or not a readable Parquet file
     * @throws IllegalArgumentException naming the file and column when a column is missing or of another type
     */
    public static ShardReader open(Path file, List<String> columns) throws IOException {
        ParquetFileReader reader = ParquetRecords.openFile(file, HadoopFs.conf());
        try {
            MessageType requested = ShardSchema.project(reader.getFileMetaData().getSchema(), columns, file.getName());
            return new ShardReader(file, reader, requested);
        } catch (RuntimeException e) {
            reader.close();
            throw e;
        }
    }

    /** The file's {@code distill.*} metadata, parsed; throws IllegalArgumentException naming the file and key when malformed. */
    public ShardMetadata metadata() {
        return ShardMetadata.fromKeyValues(keyValueMetadata(), file.getName());
    }

    /** Every key-value pair of the footer. */
    public Map<String, String> keyValueMetadata() {
        return reader.getFileMetaData().getKeyValueMetaData();
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
        return new ParquetRecords<>(reader, requested, new SoftLabelMaterializer(requested), file.getName());
    }

    @Override
    public void close() throws IOException {
        reader.close();
    }
}
