package dev.distill.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.distill.model.gguf.GgmlType;
import dev.distill.model.gguf.Half;
import dev.distill.testing.RepoRoot;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * ggml quantisation bit-exact with the reference blocks gguf.quants made
 * (fixtures/gguf, tools/scripts/make_gguf_fixtures.py): zero blocks, ties, exact halves, f16 subnormal
 * scales and large magnitudes included.
 */
class GgufQuantTest {
    static Path gguf(String name) {
        return RepoRoot.resolve("fixtures/gguf").resolve(name);
    }

    static float[] floats(Path p) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[b.remaining() / 4];
        b.asFloatBuffer().get(out);
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"f16", "q8_0", "q4_0"})
    void quantizeMatchesGgmlReferenceBytes(String name) throws IOException {
        GgmlType type = GgmlType.valueOf(name.toUpperCase());
        float[] x = floats(gguf("quant_input.f32"));
        ByteBuffer out = ByteBuffer.allocate((int) type.bytes(x.length));
        type.quantize(x, 0, x.length, out);
        byte[] expected = Files.readAllBytes(gguf("quant_" + name + ".bin"));
        assertEquals(expected.length, out.position());
        for (int i = 0; i < expected.length; i++) {
            if (expected[i] != out.array()[i]) {
                int block = i / type.blockBytes;
                throw new AssertionError(name + ": byte " + i + " (block " + block + ", input values from "
                        + block * type.blockSize + ") is " + out.array()[i] + ", ggml writes " + expected[i]);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"f16", "q8_0", "q4_0"})
    void dequantizeMatchesGgufPackage(String name) throws IOException {
        GgmlType type = GgmlType.valueOf(name.toUpperCase());
        float[] expected = floats(gguf("dequant_" + name + ".f32"));
        float[] out = new float[expected.length];
        type.dequantize(ByteBuffer.wrap(Files.readAllBytes(gguf("quant_" + name + ".bin"))), out, 0, out.length);
        assertArrayEquals(expected, out);
    }

    @Test
    void halfRoundTripsEveryFiniteValue() {
        for (int h = 0; h < 0x10000; h++) {
            float f = Half.toFloat((short) h);
            if (!Float.isNaN(f)) {
                assertEquals((short) h, Half.fromFloat(f), "half bits " + Integer.toHexString(h));
            }
        }
        assertEquals((short) 0x7c00, Half.fromFloat(65520f)); // rounds up past the largest half
        assertEquals((short) 0x7bff, Half.fromFloat(65519f));
        assertEquals((short) 0x0001, Half.fromFloat(0x1p-24f * 0.75f)); // above half the smallest subnormal
        assertEquals((short) 0x0000, Half.fromFloat(0x1p-25f)); // exactly half: to even (zero)
    }
}
