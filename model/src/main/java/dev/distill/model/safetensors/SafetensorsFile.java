package dev.distill.model.safetensors;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.IntBuffer;
import java.nio.MappedByteBuffer;
import java.nio.ShortBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A safetensors file opened for reading: the header is parsed and validated up front; tensor data
 * is memory-mapped in chunks of at most 32 MiB when a tensor is read and
 * copied straight into a libtorch tensor, so no tensor ever passes through the Java heap. BF16 is
 * widened to float32 on the host ({@code bits << 16}), one chunk at a time.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** Largest mapping (and host staging buffer for BF16 is twice this). */
    static final int CHUNK_BYTES = 32 << 20;

    private static final long MAX_HEADER_BYTES = 100L << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;
    private final int chunkBytes;
    private ByteBuffer widenBuffer;

    private SafetensorsFile(
            Path path,
            FileChannel channel,
            long dataStart,
            Map<String, TensorInfo> tensors,
            Map<String, String> metadata,
            int chunkBytes) {
        this.chunkBytes = chunkBytes;
        this.path = path;
        this.channel = channel;
        this.dataStart = dataStart;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /** Opens and validates {@code path}; errors name the file and the offending tensor or field. */
    public static SafetensorsFile open(Path path) {
        return open(path, CHUNK_BYTES);
    }

    /** As {@link #open(Path)}, mapping at most {@code chunkBytes} per copy (tests use small chunks). */
    static SafetensorsFile open(Path path, int chunkBytes) {
        FileChannel ch;
        try {
            ch = FileChannel.open(path, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new SafetensorsException(path + ": cannot open: " + e.getMessage(), e);
        }
        try {
            long size = ch.size();
            if (size < 8) {
                throw new SafetensorsException(path + ": empty or truncated safetensors file (" + size
                        + " bytes; it must" + " start with an 8-byte header length)");
            }
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, len, 0);
            long headerLen = len.getLong(0);
            if (size < 8 || headerLen <= 0 || headerLen > MAX_HEADER_BYTES || headerLen > size - 8) {
                throw new SafetensorsException(
                        path + ": not a safetensors file (header length " + headerLen + ", file size " + size + ")");
            }
            ByteBuffer header = ByteBuffer.allocate((int) headerLen);
            readFully(ch, header, 8);
            JsonNode root;
            try {
                root = JSON.readTree(header.array());
            } catch (IOException e) {
                throw new SafetensorsException(path + ": header is not valid JSON: " + e.getMessage(), e);
            }
            if (root == null || !root.isObject()) {
                throw new SafetensorsException(path + ": header is not a JSON object");
            }
            long dataSize = size - 8 - headerLen;
            Map<String, TensorInfo> tensors = new LinkedHashMap<>();
            Map<String, String> metadata = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (e.getKey().equals("__metadata__")) {
                    e.getValue()
                            .fields()
                            .forEachRemaining(
                                    m -> metadata.put(m.getKey(), m.getValue().asText()));
                } else {
                    tensors.put(e.getKey(), parseEntry(path, e.getKey(), e.getValue(), dataSize));
                }
            }
            return new SafetensorsFile(
                    path,
                    ch,
                    8 + headerLen,
                    Collections.unmodifiableMap(tensors),
                    Collections.unmodifiableMap(metadata),
                    chunkBytes);
        } catch (IOException e) {
            closeQuietly(ch);
            throw new SafetensorsException(path + ": cannot read: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeQuietly(ch);
            throw e;
        }
    }

    private static TensorInfo parseEntry(Path path, String name, JsonNode node, long dataSize) {
        String where = path + ": tensor '" + name + "'";
        JsonNode dtype = node.get("dtype");
        JsonNode shape = node.get("shape");
        JsonNode offsets = node.get("data_offsets");
        if (dtype == null
                || !dtype.isTextual()
                || shape == null
                || !shape.isArray()
                || offsets == null
                || !offsets.isArray()
                || offsets.size() != 2) {
            throw new SafetensorsException(where + ": header entry needs dtype, shape and data_offsets [begin, end]");
        }
        long[] dims = new long[shape.size()];
        for (int i = 0; i < dims.length; i++) {
            if (!shape.get(i).canConvertToLong() || shape.get(i).asLong() < 0) {
                throw new SafetensorsException(where + ": bad shape " + shape);
            }
            dims[i] = shape.get(i).asLong();
        }
        long begin = offsets.get(0).asLong(-1);
        long end = offsets.get(1).asLong(-1);
        if (begin < 0 || end < begin || end > dataSize) {
            throw new SafetensorsException(
                    where + ": data_offsets " + offsets + " outside the " + dataSize + "-byte data section");
        }
        TensorInfo info = new TensorInfo(name, dtype.asText(), dims, begin, end);
        SafetensorsDtype.fromName(info.dtype()).ifPresent(d -> {
            if (info.numel() * d.bytes() != end - begin) {
                throw new SafetensorsException(where + ": " + info.dtype() + info.shapeString() + " needs "
                        + info.numel() * d.bytes() + " bytes but data_offsets span " + (end - begin));
            }
        });
        return info;
    }

    /** The file this was opened from. */
    public Path path() {
        return path;
    }

    /** Tensor entries in header order. */
    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    /** The header's __metadata__ (empty if none). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The entry for {@code name}; an error naming the file if there is none. */
    public TensorInfo info(String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) {
            throw new SafetensorsException(path + ": no tensor '" + name + "'");
        }
        return t;
    }

    /**
     * Reads a floating-point tensor (F32, F16 or BF16 on disk) as a new tensor of {@code dtype}
     * (FLOAT32 or FLOAT16) on {@code manager}'s device, attached to {@code manager}.
     */
    public NDArray read(String name, DataType dtype, NDManager manager) {
        TensorInfo t = info(name);
        NDArray dest = manager.create(new Shape(t.shape()), dtype); // [shape], uninitialised
        try {
            readInto(name, dest, 0);
        } catch (RuntimeException e) {
            dest.close();
            throw e;
        }
        return dest;
    }

    /**
     * Copies tensor {@code name} into the flattened elements {@code [offset, offset + numel)} of the
     * contiguous floating-point tensor {@code dest} (any device), converting the dtype. Used to
     * load several checkpoint tensors side by side into one fused parameter.
     */
    public void readInto(String name, NDArray dest, long offset) {
        TensorInfo t = info(name);
        SafetensorsDtype d = SafetensorsDtype.fromName(t.dtype())
                .filter(SafetensorsDtype::isFloat)
                .orElseThrow(() -> new SafetensorsException(
                        path + ": tensor '" + name + "' has dtype " + t.dtype() + "; supported: F32, F16, BF16"));
        long n = t.numel();
        long perChunk = chunkBytes / d.bytes();
        try {
            for (long e = 0; e < n; e += perChunk) {
                long m = Math.min(perChunk, n - e);
                MappedByteBuffer raw = channel.map(
                        FileChannel.MapMode.READ_ONLY, dataStart + t.begin() + e * d.bytes(), m * d.bytes());
                raw.order(ByteOrder.LITTLE_ENDIAN);
                try {
                    if (d == SafetensorsDtype.BF16) {
                        TensorCopy.copyInto(dest, offset + e, widen(raw, (int) m), DataType.FLOAT32, m);
                    } else {
                        TensorCopy.copyInto(dest, offset + e, raw, d.djl(), m);
                    }
                } finally {
                    MappedChunks.release(raw); // the copy is done and its CPU view closed
                }
            }
        } catch (IOException ex) {
            throw new SafetensorsException(path + ": cannot map tensor '" + name + "': " + ex.getMessage(), ex);
        }
    }

    /** bfloat16 bits to float32 bits: the bf16 value is the high half of the float. */
    private ByteBuffer widen(ByteBuffer bf16, int count) {
        if (widenBuffer == null || widenBuffer.capacity() < count * 4) {
            widenBuffer =
                    ByteBuffer.allocateDirect(Math.max(count, 1 << 16) * 4).order(ByteOrder.nativeOrder());
        }
        ShortBuffer in = bf16.asShortBuffer();
        IntBuffer out = widenBuffer.clear().asIntBuffer();
        for (int i = 0; i < count; i++) {
            out.put(i, (in.get(i) & 0xFFFF) << 16);
        }
        return widenBuffer.clear();
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos);
            if (n < 0) {
                throw new IOException("unexpected end of file at byte " + pos);
            }
            pos += n;
        }
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // already failing with a better error
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
