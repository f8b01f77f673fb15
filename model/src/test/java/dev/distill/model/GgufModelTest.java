package dev.distill.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.distill.model.gguf.GgmlType;
import dev.distill.model.gguf.GgufArchitecture;
import dev.distill.model.gguf.GgufException;
import dev.distill.model.gguf.GgufExport;
import dev.distill.model.gguf.GgufFile;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Export to GGUF and load back: the config survives, llama's q/k permutation is undone, and each
 * parameter is exactly the dequantised value of its quantised rows (f32: the original).
 */
class GgufModelTest {
    @TempDir
    Path tmp;

    @ParameterizedTest
    @CsvSource({
        "llama,f32",
        "llama,q4_0",
        "llama_linear_tied,q8_0",
        "qwen2_fp16_tied,f16",
        "qwen3,q4_0",
        "qwen3,f32",
        "mistral_bf16,q8_0"
    })
    void exportedFileLoadsBackAsTheDequantisedModel(String variant, String quant) {
        GgmlType type = GgufExport.parseType(quant);
        Path out = tmp.resolve(variant + "-" + quant + ".gguf");
        try (CausalLM model = CausalLM.load(Fixtures.model(variant), DataType.FLOAT32, Device.cpu())) {
            GgufExport.write(model, type, null, variant, w -> {}, out);
            try (GgufFile f = GgufFile.open(out)) {
                String arch = variant.startsWith("qwen") ? variant.substring(0, 5) : "llama";
                assertEquals(arch, f.metadata().get("general.architecture"));
                assertEquals(
                        GgmlType.F32, f.tensors().get("blk.0.attn_norm.weight").type());
                assertEquals(type, f.tensors().get("blk.1.ffn_down.weight").type());
                assertEquals(!model.config().tieWordEmbeddings(), f.tensors().containsKey("output.weight"));
                assertEquals(
                        model.config().rope().type().equals("llama3"),
                        f.tensors().containsKey("rope_freqs.weight"));
            }
            try (CausalLM loaded = CausalLM.load(out, DataType.FLOAT32, Device.cpu())) {
                ModelConfig a = model.config();
                ModelConfig b = loaded.config();
                assertEquals(a.modelType().equals("mistral") ? "llama" : a.modelType(), b.modelType());
                assertEquals(a.rope(), b.rope());
                assertEquals((float) a.rmsNormEps(), (float) b.rmsNormEps());
                assertEquals(a.tieWordEmbeddings(), b.tieWordEmbeddings());
                assertEquals(a.headDim(), b.headDim());
                assertEquals(a.numKvHeads(), b.numKvHeads());
                assertEquals(a.maxPositionEmbeddings(), b.maxPositionEmbeddings());
                assertEquals(a.vocabSize(), b.vocabSize());
                Map<String, NDArray> expected = model.parameters();
                for (Map.Entry<String, NDArray> e : loaded.parameters().entrySet()) {
                    float[] original = expected.get(e.getKey()).toFloatArray();
                    float[] want = e.getValue().getShape().dimension() == 1 ? original : roundTrip(type, original);
                    assertArrayEquals(want, e.getValue().toFloatArray(), e.getKey());
                }
            }
        }
    }

    /** Each row quantised and dequantised (ggml quantises along rows, so a row permutation commutes with it). */
    private static float[] roundTrip(GgmlType type, float[] x) {
        ByteBuffer b = ByteBuffer.allocate((int) type.bytes(x.length));
        type.quantize(x, 0, x.length, b);
        float[] out = new float[x.length];
        type.dequantize(b.flip(), out, 0, out.length);
        return out;
    }

    @Test
    void llamaQkPermutationIsConvertHfToGgufs() {
        // 2 heads of dim 4, one column: HF rows [h0: a0 a1 b0 b1, h1: ...] -> interleaved [a0 b0 a1 b1]
        float[] w = {0, 1, 2, 3, 4, 5, 6, 7};
        assertArrayEquals(new float[] {0, 2, 1, 3, 4, 6, 5, 7}, GgufArchitecture.permuteRows(w, 2, 1, false));
        assertArrayEquals(w, GgufArchitecture.permuteRows(GgufArchitecture.permuteRows(w, 2, 1, false), 2, 1, true));
    }

    @Test
    void unsupportedArchitectureAndTypeAreRefused() {
        assertEquals(
                "model_type 'gpt2' cannot be exported to GGUF (supported: llama, mistral, qwen2, qwen3)",
                assertThrows(GgufException.class, () -> GgufArchitecture.ofModelType("gpt2"))
                        .getMessage());
        assertEquals(
                "'q4_k_m' (supported: f32, f16, q8_0, q4_0)",
                assertThrows(IllegalArgumentException.class, () -> GgufExport.parseType("q4_k_m"))
                        .getMessage());
    }
}
