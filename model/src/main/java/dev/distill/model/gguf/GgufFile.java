package dev.distill.model.gguf;

import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A GGUF v3 file opened for reading: its metadata (integers as Long, floats as Double, arrays as
 * List) and tensor infos, parsed up front and checked against the file size; tensors are read and
 * dequantised to float32 on request.
 */
public final class GgufFile implements AutoCloseable {
    /** A tensor's name, PyTorch-order shape (rows first), type and absolute byte offset in the file. */
    public record TensorInfo(String name, long[] shape, GgmlType type, long offset) {
        public long numel() {
            return Arrays.stream(shape).reduce(1, Math::multiplyExact);
        }
    }

    private final Path path;
    private final FileChannel channel;
    private final Map<String, Object> metadata;
    private final Map<String, TensorInfo> tensors;

    private GgufFile(Path path, FileChannel channel, Map<String, Object> metadata, Map<String, TensorInfo> tensors) {
        this.path = path;
        this.channel = channel;
        this.metadata = metadata;
        this.tensors = tensors;
    }

    public static GgufFile open(Path path) {
        FileChannel ch;
        try {
            ch = FileChannel.open(path, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": cannot open: " + e.getMessage(), e);
        }
        try {
            Source in = new Source(ch);
            int magic = in.i32();
            if (magic != 0x46554747) {
                throw new GgufException(path + ": not a GGUF file (magic 0x" + Integer.toHexString(magic) + ")");
            }
            int version = in.i32();
            if (version != 3) {
                throw new GgufException(path + ": GGUF version " + version + " is not supported (supported: 3)");
            }
            long nTensors = in.i64();
            long nKv = in.i64();
            Map<String, Object> meta = new LinkedHashMap<>();
            for (long i = 0; i < nKv; i++) {
                String key = in.string();
                meta.put(key, readValue(in, GgufValueType.ofId(in.i32(), path + ": key '" + key + "'"), path, key));
            }
            long alignment = meta.get("general.alignment") instanceof Long a ? a : GgufWriter.ALIGNMENT;
            List<Object[]> raw = new ArrayList<>();
            for (long i = 0; i < nTensors; i++) {
                String name = in.string();
                int nDims = in.i32();
                long[] shape = new long[nDims];
                for (int d = nDims - 1; d >= 0; d--) {
                    shape[d] = in.i64();
                }
                GgmlType type;
                int typeId = in.i32();
                try {
                    type = GgmlType.ofId(typeId);
                } catch (IllegalArgumentException e) {
                    throw new GgufException(path + ": tensor '" + name + "': " + e.getMessage());
                }
                raw.add(new Object[] {name, shape, type, in.i64()});
            }
            long dataStart = (in.position() + alignment - 1) / alignment * alignment;
            long size = ch.size();
            Map<String, TensorInfo> infos = new LinkedHashMap<>();
            for (Object[] r : raw) {
                TensorInfo t = new TensorInfo((String) r[0], (long[]) r[1], (GgmlType) r[2], dataStart + (Long) r[3]);
                long row = t.shape().length == 0 ? 1 : t.shape()[t.shape().length - 1];
                if (row % t.type().blockSize != 0) {
                    throw new GgufException(path + ": tensor '" + t.name() + "' row length " + row
                            + " is not a multiple of the block size " + t.type().blockSize);
                }
                if (t.offset() + t.type().bytes(t.numel()) > size) {
                    throw new GgufException(path + ": tensor '" + t.name() + "' lies beyond the end of the file");
                }
                infos.put(t.name(), t);
            }
            return new GgufFile(path, ch, Collections.unmodifiableMap(meta), Collections.unmodifiableMap(infos));
        } catch (IOException e) {
            closeQuietly(ch);
            throw new GgufException(path + ": truncated or unreadable GGUF header: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeQuietly(ch);
            throw e;
        }
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // reporting the first error
        }
    }

    private static Object readValue(Source in, GgufValueType t, Path path, String key) throws IOException {
        switch (t) {
            case UINT8:
                return (long) (in.u8());
            case INT8:
                return (long) (byte) in.u8();
            case UINT16:
                return (long) (in.i16() & 0xffff);
            case INT16:
                return (long) in.i16();
            case UINT32:
                return in.i32() & 0xffffffffL;
            case INT32:
                return (long) in.i32();
            case UINT64:
            case INT64:
                return in.i64();
            case FLOAT32:
                return (double) Float.intBitsToFloat(in.i32());
            case FLOAT64:
                return Double.longBitsToDouble(in.i64());
            case BOOL:
                return in.u8() != 0;
            case STRING:
                return in.string();
            case ARRAY: {
                GgufValueType et = GgufValueType.ofId(in.i32(), path + ": key '" + key + "'");
                long n = in.i64();
                List<Object> list = new ArrayList<>((int) Math.min(n, 1 << 20));
                for (long i = 0; i < n; i++) {
                    list.add(readValue(in, et, path, key));
                }
                return list;
            }
            default:
                throw new IllegalStateException(t.toString());
        }
    }

    public Path path() {
        return path;
    }

    public Map<String, Object> metadata() {
        return metadata;
    }

    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    /** A required metadata value of the given Java type, else an error naming the file and key. */
    public <T> T require(String key, Class<T> type) {
        Object v = metadata.get(key);
        if (!type.isInstance(v)) {
            throw new GgufException(path + ": "
                    + (v == null
                            ? "missing metadata key '" + key + "'"
                            : "metadata key '" + key + "' is not a "
                                    + type.getSimpleName().toLowerCase()));
        }
        return type.cast(v);
    }

    /** Reads tensor {@code name} dequantised to float32, in row-major PyTorch order. */
    public float[] read(String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) {
            throw new GgufException(path + ": no tensor '" + name + "'");
        }
        int n = Math.toIntExact(t.numel());
        float[] out = new float[n];
        int perChunk = t.type().blockSize * (16 << 20) / t.type().blockBytes; // ~16 MiB of file per read
        long pos = t.offset();
        for (int from = 0; from < n; from += perChunk) {
            int m = Math.min(perChunk, n - from);
            ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact(t.type().bytes(m)));
            try {
                while (buf.hasRemaining()) {
                    if (channel.read(buf, pos + buf.position()) < 0) {
                        throw new EOFException();
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(path + ": cannot read tensor '" + name + "': " + e.getMessage(), e);
            }
            pos += buf.capacity();
            t.type().dequantize(buf.flip(), out, from, m);
        }
        return out;
    }

    @Override
    public void close() {
        closeQuietly(channel);
    }

    /** Buffered little-endian reads from the start of a channel. */
    private static final class Source {
        private final FileChannel ch;
        private final ByteBuffer buf = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
        private long bufStart;

        Source(FileChannel ch) {
            this.ch = ch;
            buf.limit(0);
        }

        long position() {
            return bufStart + buf.position();
        }

        private void need(int n) throws IOException {
            if (buf.remaining() >= n) {
                return;
            }
            bufStart += buf.position();
            buf.compact();
            while (buf.position() < n) {
                if (ch.read(buf, bufStart + buf.position()) < 0) {
                    throw new EOFException("end of file at byte " + (bufStart + buf.position()));
                }
            }
            buf.flip();
        }

        int u8() throws IOException {
            need(1);
            return buf.get() & 0xff;
        }

        short i16() throws IOException {
            need(2);
            return buf.getShort();
        }

        int i32() throws IOException {
            need(4);
            return buf.getInt();
        }

        long i64() throws IOException {
            need(8);
            return buf.getLong();
        }

        String string() throws IOException {
            long n = i64();
            if (n < 0 || n > (1 << 30)) {
                throw new IOException("string length " + n + " at byte " + (position() - 8));
            }
            byte[] b = new byte[(int) n];
            int off = 0;
            while (off < n) {
                need(1);
                int k = Math.min(buf.remaining(), (int) n - off);
                buf.get(b, off, k);
                off += k;
            }
            return new String(b, StandardCharsets.UTF_8);
        }
    }
}
