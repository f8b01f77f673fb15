package dev.distill.model.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.distill.model.Engines;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {
    @TempDir
    Path dir;

    NDManager m;

    @BeforeEach
    void setUp() {
        m = Engines.pytorch().newBaseManager(Device.cpu());
    }

    @AfterEach
    void tearDown() {
        m.close();
    }

    @Test
    void writesTheSafetensorsLayoutAndReadsItBackBitForBit() throws IOException {
        float[] a = new float[35];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) Math.sin(i) * 1000 + i / 7f;
        }
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        tensors.put("a", m.create(a, new Shape(5, 7))); // [5, 7] f32
        tensors.put("b.half", m.create(new float[] {0.5f, -1.25f, 65504f}).toType(DataType.FLOAT16, false)); // [3]
        tensors.put("c.ids", m.create(new long[] {1, -2, 3, 1L << 40})); // [4] i64
        Path file = dir.resolve("t.safetensors");
        SafetensorsWriter.write(file, tensors, Map.of("format", "pt"), 16); // 16-byte chunks: many transfers

        byte[] bytes = Files.readAllBytes(file);
        long headerLen = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertEquals(0, (8 + headerLen) % 8, "header padded to 8 bytes");
        assertEquals(8 + headerLen + 35 * 4 + 3 * 2 + 4 * 8, bytes.length);
        JsonNode header = new ObjectMapper().readTree(new String(bytes, 8, (int) headerLen, StandardCharsets.UTF_8));
        assertEquals("pt", header.get("__metadata__").get("format").asText());
        assertEquals(
                "{\"dtype\":\"F32\",\"shape\":[5,7],\"data_offsets\":[0,140]}",
                header.get("a").toString());
        assertEquals(
                "{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[140,146]}",
                header.get("b.half").toString());
        assertEquals(
                "{\"dtype\":\"I64\",\"shape\":[4],\"data_offsets\":[146,178]}",
                header.get("c.ids").toString());
        ByteBuffer data =
                ByteBuffer.wrap(bytes, (int) (8 + headerLen), 178).slice().order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(Float.floatToRawIntBits(a[34]), data.getInt(34 * 4));
        assertEquals(1L << 40, data.getLong(146 + 3 * 8));

        try (SafetensorsFile f = SafetensorsFile.open(file, 12)) {
            assertEquals(
                    List.of("a", "b.half", "c.ids"), List.copyOf(f.tensors().keySet()));
            assertEquals(Map.of("format", "pt"), f.metadata());
            assertArrayEquals(new long[] {5, 7}, f.info("a").shape());
            NDArray readA = f.read("a", DataType.FLOAT32, m);
            assertEquals(new Shape(5, 7), readA.getShape());
            assertArrayEquals(a, readA.toFloatArray());
            assertArrayEquals(
                    new float[] {0.5f, -1.25f, 65504f},
                    f.read("b.half", DataType.FLOAT32, m).toFloatArray());
            NDArray halfAgain = f.read("b.half", DataType.FLOAT16, m);
            assertEquals(DataType.FLOAT16, halfAgain.getDataType());
            SafetensorsException e =
                    assertThrows(SafetensorsException.class, () -> f.read("c.ids", DataType.FLOAT32, m));
            assertEquals(file + ": tensor 'c.ids' has dtype I64; supported: F32, F16, BF16", e.getMessage());
            e = assertThrows(SafetensorsException.class, () -> f.info("nope"));
            assertEquals(file + ": no tensor 'nope'", e.getMessage());
        }
    }

    @Test
    void bf16IsWidenedExactlyAndReadIntoAnOffsetOfALargerTensor() throws IOException {
        float[] values = {1.5f, -2.25f, 3.0e-3f, 65536f, -0f, 1e-30f, 7f};
        ByteBuffer data = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        float[] expected = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            short bits = (short) (Float.floatToRawIntBits(values[i]) >>> 16); // bf16 = top half of f32
            data.putShort(bits);
            expected[i] = Float.intBitsToFloat((bits & 0xFFFF) << 16);
        }
        Path file = writeRaw("{\"w\":{\"dtype\":\"BF16\",\"shape\":[7],\"data_offsets\":[0,14]}}", data.array());
        try (SafetensorsFile f = SafetensorsFile.open(file, 4)) { // 2 elements per chunk
            assertArrayEquals(expected, f.read("w", DataType.FLOAT32, m).toFloatArray());
            NDArray fused = m.zeros(new Shape(3, 7)); // [3, 7]: the bf16 tensor goes into row 1
            f.readInto("w", fused, 7);
            float[] got = fused.toFloatArray();
            for (int i = 0; i < 7; i++) {
                assertEquals(0f, got[i]);
                assertEquals(expected[i], got[7 + i]);
                assertEquals(0f, got[14 + i]);
            }
        }
    }

    @Test
    void badFilesAreRejectedWithTheFileAndTensorNamed() throws IOException {
        Path notSafetensors = dir.resolve("junk.safetensors");
        byte[] junk = "this is not a safetensors file".getBytes(StandardCharsets.UTF_8);
        Files.write(notSafetensors, junk);
        long asLength = ByteBuffer.wrap(junk).order(ByteOrder.LITTLE_ENDIAN).getLong(0); // "this is " as a u64
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(notSafetensors));
        assertEquals(
                notSafetensors + ": not a safetensors file (header length " + asLength + ", file size 30)",
                e.getMessage());

        Path empty = dir.resolve("empty.safetensors");
        Files.write(empty, new byte[0]);
        e = assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(empty));
        assertEquals(
                empty + ": empty or truncated safetensors file (0 bytes; it must start with an 8-byte header length)",
                e.getMessage());

        Path outside = writeRaw("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", new byte[12]);
        e = assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(outside));
        assertEquals(outside + ": tensor 'w': data_offsets [0,16] outside the 12-byte data section", e.getMessage());

        Path wrongSize = writeRaw("{\"w\":{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[0,8]}}", new byte[8]);
        e = assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(wrongSize));
        assertEquals(wrongSize + ": tensor 'w': F16[2, 3] needs 12 bytes but data_offsets span 8", e.getMessage());
    }

    private Path writeRaw(String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(h.length).put(h).put(data);
        Path file = Files.createTempFile(dir, "raw", ".safetensors");
        Files.write(file, buf.array());
        return file;
    }
}
