package dev.distill.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.model.gguf.GgmlType;
import dev.distill.model.gguf.GgufException;
import dev.distill.model.gguf.GgufFile;
import dev.distill.model.gguf.GgufWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The GGUF writer produces the bytes gguf.GGUFWriter does (fixtures/gguf/writer.gguf); the reader reads them. */
class GgufFileTest {
    @TempDir
    Path tmp;

    private static GgufWriter fixtureContent(float[] x) {
        GgufWriter w = new GgufWriter();
        w.putString("general.architecture", "llama");
        w.putString("general.name", "writer fixture");
        w.putU32("llama.block_count", 2);
        w.putF32("llama.rope.freq_base", 500000.0);
        w.putBool("tokenizer.ggml.add_bos_token", true);
        w.putStrings("tokenizer.ggml.tokens", List.of("a", "\u0120b", "<|im_end|>", "\u00e9"));
        w.putI32s("tokenizer.ggml.token_type", new int[] {1, 1, 3, 4});
        w.addTensor(new GgufWriter.Tensor("norm.weight", new long[] {64}, GgmlType.F32, () -> Arrays.copyOf(x, 64)));
        w.addTensor(
                new GgufWriter.Tensor("f16.weight", new long[] {32, 128}, GgmlType.F16, () -> Arrays.copyOf(x, 4096)));
        w.addTensor(
                new GgufWriter.Tensor("q8.weight", new long[] {32, 128}, GgmlType.Q8_0, () -> Arrays.copyOf(x, 4096)));
        w.addTensor(new GgufWriter.Tensor(
                "q4.weight", new long[] {64, 64}, GgmlType.Q4_0, () -> Arrays.copyOfRange(x, 4096, 8192)));
        return w;
    }

    @Test
    void writerBytesEqualThePythonGgufWriters() throws IOException {
        float[] x = GgufQuantTest.floats(GgufQuantTest.gguf("quant_input.f32"));
        Path out = tmp.resolve("w.gguf");
        long size = fixtureContent(x).write(out);
        byte[] expected = Files.readAllBytes(GgufQuantTest.gguf("writer.gguf"));
        assertEquals(expected.length, size);
        assertArrayEquals(expected, Files.readAllBytes(out));
        assertTrue(Files.notExists(tmp.resolve("w.gguf.tmp")));
    }

    @Test
    void readerReadsThePythonFile() throws IOException {
        float[] x = GgufQuantTest.floats(GgufQuantTest.gguf("quant_input.f32"));
        float[] q8 = GgufQuantTest.floats(GgufQuantTest.gguf("dequant_q8_0.f32"));
        float[] q4 = GgufQuantTest.floats(GgufQuantTest.gguf("dequant_q4_0.f32"));
        try (GgufFile f = GgufFile.open(GgufQuantTest.gguf("writer.gguf"))) {
            assertEquals("llama", f.metadata().get("general.architecture"));
            assertEquals(2L, f.metadata().get("llama.block_count"));
            assertEquals(500000.0, f.metadata().get("llama.rope.freq_base"));
            assertEquals(true, f.metadata().get("tokenizer.ggml.add_bos_token"));
            assertEquals(
                    List.of("a", "\u0120b", "<|im_end|>", "\u00e9"),
                    f.metadata().get("tokenizer.ggml.tokens"));
            assertEquals(List.of(1L, 1L, 3L, 4L), f.metadata().get("tokenizer.ggml.token_type"));
            assertEquals(
                    List.of("norm.weight", "f16.weight", "q8.weight", "q4.weight"),
                    List.copyOf(f.tensors().keySet()));
            assertArrayEquals(new long[] {32, 128}, f.tensors().get("q8.weight").shape());
            assertArrayEquals(Arrays.copyOf(x, 64), f.read("norm.weight"));
            assertArrayEquals(Arrays.copyOf(q8, 4096), f.read("q8.weight"));
            assertArrayEquals(Arrays.copyOfRange(q4, 4096, 8192), f.read("q4.weight"));
        }
    }

    @Test
    void rowsNotAMultipleOfTheBlockSizeAreRefusedNamingTheTensor() {
        GgufException e = assertThrows(GgufException.class, () -> new GgufWriter()
                .addTensor(new GgufWriter.Tensor(
                        "blk.0.ffn_down.weight", new long[] {64, 48}, GgmlType.Q4_0, () -> new float[0])));
        assertEquals(
                "tensor 'blk.0.ffn_down.weight' [64, 48]: row length 48 is not a multiple of the q4_0 block size 32",
                e.getMessage());
    }

    @Test
    void notAGgufFileIsRefusedNamingIt() throws IOException {
        Path p = tmp.resolve("x.gguf");
        Files.write(p, new byte[] {'G', 'G', 'M', 'L', 3, 0, 0, 0});
        GgufException e = assertThrows(GgufException.class, () -> GgufFile.open(p));
        assertEquals(p + ": not a GGUF file (magic 0x4c4d4747)", e.getMessage());
        Path truncated = tmp.resolve("t.gguf");
        Files.write(truncated, Arrays.copyOf(Files.readAllBytes(GgufQuantTest.gguf("writer.gguf")), 100));
        e = assertThrows(GgufException.class, () -> GgufFile.open(truncated));
        assertTrue(e.getMessage().startsWith(truncated + ": truncated or unreadable GGUF header"), e.getMessage());
    }
}
