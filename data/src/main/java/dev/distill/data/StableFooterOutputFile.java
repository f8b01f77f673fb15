package dev.distill.data;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Comparator;
import org.apache.parquet.format.ColumnChunk;
import org.apache.parquet.format.Encoding;
import org.apache.parquet.format.FileMetaData;
import org.apache.parquet.format.RowGroup;
import org.apache.parquet.format.Util;
import org.apache.parquet.io.OutputFile;
import org.apache.parquet.io.PositionOutputStream;

/**
 * Makes parquet-mr's output byte-for-byte reproducible. parquet-mr lists each column chunk's encodings in the
 * iteration order of a HashSet of enum constants, which follows identity hash codes and so differs from one JVM
 * to the next. This stream holds back the last {@link #WINDOW} bytes written, and on close rewrites the footer
 * with every encoding list sorted (same values, same length) before passing it on.
 */
final class StableFooterOutputFile implements OutputFile {
    /** Bytes held back: the footer (about 2.5 KB per row group) must fit. */
    static final int WINDOW = 4 << 20;

    private static final byte[] MAGIC = "PAR1".getBytes(StandardCharsets.US_ASCII);

    private final OutputFile delegate;

    StableFooterOutputFile(OutputFile delegate) {
        this.delegate = delegate;
    }

    @Override
    public PositionOutputStream create(long blockSizeHint) throws IOException {
        return new HoldBackStream(delegate.create(blockSizeHint));
    }

    @Override
    public PositionOutputStream createOrOverwrite(long blockSizeHint) throws IOException {
        return new HoldBackStream(delegate.createOrOverwrite(blockSizeHint));
    }

    @Override
    public boolean supportsBlockSize() {
        return delegate.supportsBlockSize();
    }

    @Override
    public long defaultBlockSize() {
        return delegate.defaultBlockSize();
    }

    @Override
    public String getPath() {
        return delegate.getPath();
    }

    /** Sorts every column chunk's encoding list in the footer at the end of {@code file[0, length)}, in place. */
    static void normalizeFooter(byte[] file, int length) throws IOException {
        if (length < 12 || !Arrays.equals(file, length - 4, length, MAGIC, 0, 4)) {
            throw new IOException("not a complete Parquet file: no PAR1 magic at the end");
        }
        int footerLength = ByteBuffer.wrap(file, length - 8, 4)
                .order(ByteOrder.LITTLE_ENDIAN)
                .getInt();
        int footerStart = length - 8 - footerLength;
        if (footerLength < 0 || footerStart < 0) {
            throw new IOException("the shard footer is larger than " + (WINDOW >> 20)
                    + " MiB; use a larger row group size (fewer row groups per shard)");
        }
        FileMetaData footer = Util.readFileMetaData(new ByteArrayInputStream(file, footerStart, footerLength));
        for (RowGroup group : footer.getRow_groups()) {
            for (ColumnChunk chunk : group.getColumns()) {
                chunk.getMeta_data().getEncodings().sort(Comparator.comparingInt(Encoding::getValue));
            }
        }
        ByteArrayOutputStream rewritten = new ByteArrayOutputStream(footerLength);
        Util.writeFileMetaData(footer, rewritten);
        if (rewritten.size() != footerLength) {
            throw new IllegalStateException(
                    "footer changed length when normalised: " + footerLength + " -> " + rewritten.size());
        }
        System.arraycopy(rewritten.toByteArray(), 0, file, footerStart, footerLength);
    }

    /** Passes bytes through once more than {@link #WINDOW} newer bytes follow them. */
    private static final class HoldBackStream extends PositionOutputStream {
        private final PositionOutputStream out;
        private byte[] held = new byte[1 << 16];
        private int heldLength;
        private long position;
        private boolean closed;

        HoldBackStream(PositionOutputStream out) {
            this.out = out;
        }

        @Override
        public long getPos() {
            return position;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            position += len;
            if (len >= WINDOW) {
                out.write(held, 0, heldLength);
                out.write(b, off, len - WINDOW);
                heldLength = 0;
                off += len - WINDOW;
                len = WINDOW;
            }
            if (heldLength + len > held.length) {
                held = Arrays.copyOf(held, Math.max(held.length * 2, heldLength + len));
            }
            System.arraycopy(b, off, held, heldLength, len);
            heldLength += len;
            if (heldLength >= 2 * WINDOW) {
                int release = heldLength - WINDOW;
                out.write(held, 0, release);
                System.arraycopy(held, release, held, 0, WINDOW);
                heldLength = WINDOW;
            }
        }

        /** Flushes what has been passed on; held-back bytes wait for {@link #close()}. */
        @Override
        public void flush() throws IOException {
            out.flush();
        }

        @Override
        public void close() throws IOException {
            if (closed) {
                return;
            }
            closed = true;
            try {
                normalizeFooter(held, heldLength);
                out.write(held, 0, heldLength);
            } finally {
                out.close();
            }
        }
    }
}
