package dev.distill.model.safetensors;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Map;

/**
 * Writes tensors as one safetensors file (the layout transformers and the safetensors library
 * read): little-endian u64 header length, a JSON header padded with spaces to a multiple of 8,
 * then the tensors back to back in the given order. Data goes from each tensor to the file in
 * chunks, never as one heap array. The file appears atomically (written as a temp file, then moved).
 */
public final class SafetensorsWriter {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SafetensorsWriter() {}

    /** Writes {@code tensors} (any device; F32, F16 and the other dtypes of {@link SafetensorsDtype}). */
    public static void write(Path file, Map<String, NDArray> tensors, Map<String, String> metadata) {
        write(file, tensors, metadata, SafetensorsFile.CHUNK_BYTES);
    }

    /** As {@link #write(Path, Map, Map)}, copying at most {@code chunkBytes} per transfer (tests use small chunks). */
    static void write(Path file, Map<String, NDArray> tensors, Map<String, String> metadata, int chunkBytes) {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new UnsupportedOperationException("safetensors writing needs a little-endian platform");
        }
        ObjectNode header = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
            NDArray t = e.getValue();
            SafetensorsDtype dtype = SafetensorsDtype.of(t.getDataType());
            long bytes = t.size() * dtype.bytes();
            ObjectNode entry = header.putObject(e.getKey());
            entry.put("dtype", dtype.name());
            ArrayNode shape = entry.putArray("shape");
            Arrays.stream(t.getShape().getShape()).forEach(shape::add);
            entry.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(header);
        } catch (IOException e) {
            throw new SafetensorsException(file + ": cannot encode header: " + e.getMessage(), e);
        }
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) {
            head.put((byte) ' ');
        }
        head.flip();
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(
                tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            writeFully(ch, head);
            for (NDArray t : tensors.values()) {
                writeData(ch, t, chunkBytes);
            }
        } catch (IOException e) {
            throw new SafetensorsException(file + ": cannot write: " + e.getMessage(), e);
        }
        try {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new SafetensorsException(file + ": cannot move " + tmp + " into place: " + e.getMessage(), e);
        }
    }

    private static void writeData(FileChannel ch, NDArray tensor, int chunkBytes) throws IOException {
        long n = tensor.size();
        long perChunk = chunkBytes / tensor.getDataType().getNumOfBytes();
        try (NDArray flat = tensor.reshape(-1)) { // [N], a view when contiguous
            PtNDManager m = (PtNDManager) flat.getManager();
            for (long e = 0; e < n; e += perChunk) {
                long end = Math.min(n, e + perChunk);
                try (PtNDArray part = JniUtils.index(
                        (PtNDArray) flat, new long[] {e}, new long[] {end}, new long[] {1}, m)) { // [end - e]
                    NDArray host = part.toDevice(Device.cpu(), false);
                    writeFully(ch, host.toByteBuffer(true));
                    if (host != part) {
                        host.close();
                    }
                }
            }
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }
}
