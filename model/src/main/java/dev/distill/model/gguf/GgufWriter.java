package dev.distill.model.gguf;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Writes a GGUF v3 file: header, metadata in insertion order, tensor infos, then each tensor's data
 * aligned to {@value #ALIGNMENT} bytes. Tensors are encoded one at a time as they are written, so
 * memory holds one tensor. The file appears atomically (written to a temporary sibling, then moved).
 */
public final class GgufWriter {
    public static final int ALIGNMENT = 32;
    private static final int MAGIC = 0x46554747; // "GGUF" little-endian
    private static final int VERSION = 3;

    private record Value(GgufValueType type, GgufValueType elementType, Object value) {}

    /** One tensor: GGUF name, shape in PyTorch order (rows first), type, and its float32 data on demand. */
    public record Tensor(String name, long[] shape, GgmlType type, Supplier<float[]> data) {
        long numel() {
            return Arrays.stream(shape).reduce(1, Math::multiplyExact);
        }
    }

    private final Map<String, Value> metadata = new LinkedHashMap<>();
    private final List<Tensor> tensors = new ArrayList<>();

    public GgufWriter putString(String key, String v) {
        return put(key, new Value(GgufValueType.STRING, null, v));
    }

    public GgufWriter putU32(String key, long v) {
        return put(key, new Value(GgufValueType.UINT32, null, v));
    }

    public GgufWriter putF32(String key, double v) {
        return put(key, new Value(GgufValueType.FLOAT32, null, v));
    }

    public GgufWriter putBool(String key, boolean v) {
        return put(key, new Value(GgufValueType.BOOL, null, v));
    }

    public GgufWriter putStrings(String key, List<String> v) {
        return put(key, new Value(GgufValueType.ARRAY, GgufValueType.STRING, v));
    }

    public GgufWriter putI32s(String key, int[] v) {
        return put(key, new Value(GgufValueType.ARRAY, GgufValueType.INT32, v));
    }

    private GgufWriter put(String key, Value v) {
        if (metadata.put(key, v) != null) {
            throw new IllegalArgumentException("metadata key '" + key + "' set twice");
        }
        return this;
    }

    /** Adds a tensor; its row length (last dimension) must be a multiple of the type's block size. */
    public GgufWriter addTensor(Tensor t) {
        long row = t.shape()[t.shape().length - 1];
        if (row % t.type().blockSize != 0) {
            throw new GgufException("tensor '" + t.name() + "' " + Arrays.toString(t.shape()) + ": row length " + row
                    + " is not a multiple of the " + t.type().name().toLowerCase() + " block size "
                    + t.type().blockSize);
        }
        tensors.add(t);
        return this;
    }

    /** Writes the file to {@code out} (replacing it); returns its size in bytes. */
    public long write(Path out) {
        Path tmp = out.resolveSibling(out.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(
                tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            Sink sink = new Sink(ch);
            sink.i32(MAGIC);
            sink.i32(VERSION);
            sink.i64(tensors.size());
            sink.i64(metadata.size());
            for (Map.Entry<String, Value> e : metadata.entrySet()) {
                sink.string(e.getKey());
                writeValue(sink, e.getValue());
            }
            long offset = 0;
            for (Tensor t : tensors) {
                sink.string(t.name());
                sink.i32(t.shape().length);
                for (int d = t.shape().length - 1; d >= 0; d--) {
                    sink.i64(t.shape()[d]); // ggml's ne[0] is the innermost (row) dimension
                }
                sink.i32(t.type().id);
                sink.i64(offset);
                offset = align(offset + t.type().bytes(t.numel()));
            }
            sink.pad();
            for (Tensor t : tensors) {
                float[] data = t.data().get();
                if (data.length != t.numel()) {
                    throw new GgufException("tensor '" + t.name() + "': " + data.length + " values for shape "
                            + Arrays.toString(t.shape()));
                }
                ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact(t.type().bytes(data.length)));
                t.type().quantize(data, 0, data.length, buf);
                sink.bytes(buf.array());
                sink.pad();
            }
            sink.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(tmp + ": cannot write: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // the original error matters more
            }
            throw e;
        }
        try {
            Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return Files.size(out);
        } catch (IOException e) {
            throw new UncheckedIOException(out + ": cannot move " + tmp + " into place: " + e.getMessage(), e);
        }
    }

    private static long align(long n) {
        return (n + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }

    private static void writeValue(Sink sink, Value v) throws IOException {
        sink.i32(v.type().ordinal());
        switch (v.type()) {
            case STRING -> sink.string((String) v.value());
            case UINT32 -> sink.i32((int) (long) (Long) v.value());
            case FLOAT32 -> sink.f32((float) (double) (Double) v.value());
            case BOOL -> sink.u8((Boolean) v.value() ? 1 : 0);
            case ARRAY -> {
                sink.i32(v.elementType().ordinal());
                if (v.elementType() == GgufValueType.STRING) {
                    @SuppressWarnings("unchecked")
                    List<String> list = (List<String>) v.value();
                    sink.i64(list.size());
                    for (String s : list) {
                        sink.string(s);
                    }
                } else {
                    int[] ints = (int[]) v.value();
                    sink.i64(ints.length);
                    for (int i : ints) {
                        sink.i32(i);
                    }
                }
            }
            default -> throw new IllegalStateException("unwritten type " + v.type());
        }
    }

    /** Buffered little-endian output that tracks its position for alignment. */
    private static final class Sink {
        private final FileChannel ch;
        private final ByteBuffer buf = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
        private long position;

        Sink(FileChannel ch) {
            this.ch = ch;
        }

        private void room(int n) throws IOException {
            if (buf.remaining() < n) {
                flush();
            }
        }

        void u8(int v) throws IOException {
            room(1);
            buf.put((byte) v);
            position++;
        }

        void i32(int v) throws IOException {
            room(4);
            buf.putInt(v);
            position += 4;
        }

        void i64(long v) throws IOException {
            room(8);
            buf.putLong(v);
            position += 8;
        }

        void f32(float v) throws IOException {
            room(4);
            buf.putFloat(v);
            position += 4;
        }

        void string(String s) throws IOException {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            i64(b.length);
            bytes(b);
        }

        void bytes(byte[] b) throws IOException {
            int off = 0;
            while (off < b.length) {
                if (!buf.hasRemaining()) {
                    flush();
                }
                int n = Math.min(buf.remaining(), b.length - off);
                buf.put(b, off, n);
                off += n;
            }
            position += b.length;
        }

        void pad() throws IOException {
            while (position % ALIGNMENT != 0) {
                u8(0);
            }
        }

        void flush() throws IOException {
            buf.flip();
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            buf.clear();
        }
    }
}
