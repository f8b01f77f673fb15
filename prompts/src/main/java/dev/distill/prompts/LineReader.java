package dev.distill.prompts;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * Reads a byte stream line by line without decoding: lines end at {@code \n} (a trailing {@code \r} is dropped), a
 * last line without {@code \n} counts, and a UTF-8 byte order mark at the start is skipped.
 */
final class LineReader implements Closeable {
    private final InputStream in;
    private final byte[] buffer = new byte[1 << 16];
    private int position;
    private int limit;
    private byte[] line = new byte[256];
    private int lineLength;
    private boolean started;

    LineReader(InputStream in) {
        this.in = in;
    }

    /** The current line's bytes ({@code [0, length())}), valid until the next call. */
    byte[] bytes() {
        return line;
    }

    int length() {
        return lineLength;
    }

    /** Reads the next line; false at the end of the stream. */
    boolean next() throws IOException {
        lineLength = 0;
        return advance(true);
    }

    /** Skips the next line without copying it; false at the end of the stream. */
    boolean skip() throws IOException {
        return advance(false);
    }

    private boolean advance(boolean keep) throws IOException {
        if (!started) {
            started = true;
            if (fill()
                    && limit - position >= 3
                    && (buffer[0] & 0xff) == 0xEF
                    && (buffer[1] & 0xff) == 0xBB
                    && (buffer[2] & 0xff) == 0xBF) {
                position = 3;
            }
        }
        boolean any = false;
        while (position < limit || fill()) {
            any = true;
            int end = position;
            while (end < limit && buffer[end] != '\n') {
                end++;
            }
            if (keep) {
                append(position, end - position);
            }
            if (end < limit) {
                position = end + 1;
                trimCarriageReturn(keep);
                return true;
            }
            position = limit;
        }
        trimCarriageReturn(keep);
        return any;
    }

    private void trimCarriageReturn(boolean keep) {
        if (keep && lineLength > 0 && line[lineLength - 1] == '\r') {
            lineLength--;
        }
    }

    private void append(int from, int count) {
        if (lineLength + count > line.length) {
            line = Arrays.copyOf(line, Math.max(line.length * 2, lineLength + count));
        }
        System.arraycopy(buffer, from, line, lineLength, count);
        lineLength += count;
    }

    private boolean fill() throws IOException {
        int n = in.read(buffer, 0, buffer.length);
        position = 0;
        limit = Math.max(n, 0);
        return n > 0;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
