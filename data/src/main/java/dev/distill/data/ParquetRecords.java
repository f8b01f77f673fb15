package dev.distill.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.NoSuchElementException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.HadoopReadOptions;
import org.apache.parquet.column.page.PageReadStore;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.io.ColumnIOFactory;
import org.apache.parquet.io.MessageColumnIO;
import org.apache.parquet.io.RecordReader;
import org.apache.parquet.io.api.RecordMaterializer;
import org.apache.parquet.schema.MessageType;

/**
 * Streams the records of a Parquet file one row group at a time (only the current row group's pages are held in
 * memory), for any record type with a {@link RecordMaterializer}. Skipping whole row groups reads none of their data.
 */
public final class ParquetRecords<T> implements Iterator<T>, AutoCloseable {
    private final ParquetFileReader reader;
    private final MessageColumnIO columnIO;
    private final RecordMaterializer<T> materializer;
    private final String source;
    private int nextRowGroup;
    private long remainingInGroup;
    private long position;
    private RecordReader<T> recordReader;

    /**
     * Reads {@code requested} (a projection of the file's schema) through {@code materializer}.
     *
     * @param source names the file in error messages
     */
    public ParquetRecords(
            ParquetFileReader reader, MessageType requested, RecordMaterializer<T> materializer, String source) {
        this.reader = reader;
        this.materializer = materializer;
        this.source = source;
        reader.setRequestedSchema(requested);
        this.columnIO = new ColumnIOFactory()
                .getColumnIO(requested, reader.getFileMetaData().getSchema());
    }

    /**
     * Opens a Parquet file's footer, with page CRC verification on.
     *
     * @throws IOException naming the file when it is missing or not a readable Parquet file
     */
    public static ParquetFileReader openFile(Path file, Configuration conf) throws IOException {
        HadoopInputFile input = HadoopInputFile.fromPath(file, conf);
        try {
            return ParquetFileReader.open(
                    input,
                    HadoopReadOptions.builder(conf, file)
                            .usePageChecksumVerification(true)
                            .build());
        } catch (IOException | RuntimeException e) {
            throw new IOException(file.getName() + ": not a readable Parquet file (" + e.getMessage() + ")", e);
        }
    }

    /** Index (0-based) of the record {@link #next()} returns next. */
    public long position() {
        return position;
    }

    @Override
    public boolean hasNext() {
        if (remainingInGroup > 0) {
            return true;
        }
        while (nextRowGroup < reader.getRowGroups().size()) {
            PageReadStore pages;
            try {
                pages = reader.readNextRowGroup();
            } catch (IOException | RuntimeException e) {
                throw failure("cannot read row group " + nextRowGroup, e);
            }
            nextRowGroup++;
            if (pages == null) {
                return false;
            }
            remainingInGroup = pages.getRowCount();
            if (remainingInGroup > 0) {
                recordReader = columnIO.getRecordReader(pages, materializer);
                return true;
            }
        }
        return false;
    }

    @Override
    public T next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        T record;
        try {
            record = recordReader.read();
        } catch (RuntimeException e) {
            throw failure("cannot read row " + position, e);
        }
        remainingInGroup--;
        position++;
        return record;
    }

    /** Skips up to {@code n} records, jumping over whole row groups without reading them; returns how many were skipped. */
    public long skip(long n) {
        long skipped = 0;
        while (skipped < n) {
            if (remainingInGroup > 0) {
                next();
                skipped++;
            } else if (nextRowGroup < reader.getRowGroups().size()
                    && skipped + reader.getRowGroups().get(nextRowGroup).getRowCount() <= n) {
                long groupRows = reader.getRowGroups().get(nextRowGroup).getRowCount();
                reader.skipNextRowGroup();
                nextRowGroup++;
                skipped += groupRows;
                position += groupRows;
            } else if (!hasNext()) {
                break;
            }
        }
        return skipped;
    }

    private UncheckedIOException failure(String what, Exception e) {
        return new UncheckedIOException(new IOException(source + ": " + what + ": " + e.getMessage(), e));
    }

    @Override
    public void close() throws IOException {
        reader.close();
    }
}
