package dev.distill.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * oneDNN's linear on packed weights ({@link OneDnnLinear}, {@link CausalLM#packForInference}) against the matmul:
 * the op at 1, 8 and 512 rows and on 3-D input, with and without bias; packed models against transformers and
 * against the same model unpacked; what a packed model refuses; where packing does not apply.
 */
class PackedLinearTest {
    /** |packed - matmul| <= REL * max |matmul| (oneDNN and MKL sum the products in different orders). */
    private static final double REL = 1e-5;

    @ParameterizedTest
    @CsvSource({"1, false", "8, false", "512, false", "1, true", "8, true", "512, true"})
    void packedLinearEqualsTheMatmul(int rows, boolean withBias) {
        try (NDManager m = Engines.pytorch().newBaseManager(Device.cpu())) {
            OneDnnLinear ops = OneDnnLinear.load(m);
            assertNotNull(ops, "oneDNN's ops load in DJL's libtorch on this CPU");
            try (ops) {
                NDArray w = m.randomNormal(0, 0.05f, new Shape(1408, 512), DataType.FLOAT32); // [out, in]
                NDArray b = withBias ? m.randomNormal(new Shape(1408)) : null;
                NDArray packed = ops.pack(w);
                for (Shape shape : new Shape[] {new Shape(rows, 512), new Shape(2, rows, 512)}) {
                    NDArray x = m.randomNormal(shape); // [.., in]
                    NDArray expected = x.matMul(w.transpose(1, 0));
                    if (b != null) {
                        expected = expected.add(b);
                    }
                    NDArray got = ops.apply(x, packed, b);
                    assertEquals(expected.getShape(), got.getShape());
                    double scale = expected.abs().max().getFloat();
                    double diff = got.sub(expected).abs().max().getFloat();
                    System.out.printf(
                            "x %s bias %s: max |packed - matmul| = %.3g of max %.3g%n", shape, withBias, diff, scale);
                    assertTrue(diff <= REL * scale, shape + ": max diff " + diff + " of max " + scale);
                }
            }
        }
    }

    /**
     * Packed, every fixture still matches transformers within {@link ParityTest#TOLERANCE} and greedily continues its
     * prompts to the same tokens; its logits stay within REL of the unpacked model's.
     */
    @ParameterizedTest
    @MethodSource("dev.distill.model.ParityTest#variants")
    void packedModelMatchesTransformersAndTheUnpackedModel(String variant) {
        Fixtures.Reference ref = Fixtures.reference(variant);
        float[] unpacked;
        try (CausalLM model = CausalLM.load(Fixtures.model(variant), DataType.FLOAT32, Device.cpu())) {
            unpacked = logits(model, ref);
        }
        try (CausalLM model = CausalLM.load(Fixtures.model(variant), DataType.FLOAT32, Device.cpu())) {
            assertTrue(model.packForInference(), variant + " packs");
            assertTrue(model.packed());
            float[] packed = logits(model, ref);
            double diff = 0;
            double scale = 0;
            for (int i = 0; i < packed.length; i++) {
                diff = Math.max(diff, Math.abs(packed[i] - unpacked[i]));
                scale = Math.max(scale, Math.abs(unpacked[i]));
            }
            double err = ParityTest.maxLogprobError(model, ref);
            System.out.printf(
                    "%s packed: max |logit - unpacked| = %.3g of max %.3g, max |logprob - transformers| =" + " %.3g%n",
                    variant, diff, scale, err);
            assertTrue(diff <= REL * scale, variant + ": max |packed - unpacked logit| " + diff);
            assertTrue(err < ParityTest.TOLERANCE, variant + ": max |logprob diff| " + err);
            int[][] greedy = GreedyDecoder.generate(model, ref, ref.greedy()[0].length);
            for (int b = 0; b < ref.rows(); b++) {
                assertArrayEquals(ref.greedy()[b], greedy[b], variant + " row " + b);
            }
        }
    }

    @Test
    void aPackedModelRefusesGradientsAndWhatNeedsItsReleasedWeights() {
        Fixtures.Reference ref = Fixtures.reference("llama");
        try (CausalLM model = CausalLM.load(Fixtures.model("llama"), DataType.FLOAT32, Device.cpu())) {
            assertTrue(model.packForInference());
            assertTrue(model.packForInference(), "packing twice is a no-op");
            try (GradientCollector gc = Engines.pytorch().newGradientCollector()) {
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> logits(model, ref));
                assertEquals(CausalLM.PACKED_GRAD_MODE, e.getMessage());
                assertTrue(e.getMessage().contains("packed for inference"), e.getMessage());
            }
            assertEquals(
                    "parameters: this model's linear layers are packed for inference"
                            + " (CausalLM.packForInference), their original weights released",
                    assertThrows(IllegalStateException.class, model::parameters).getMessage());
            Path out = Path.of("target/never-written");
            assertTrue(assertThrows(IllegalStateException.class, () -> model.save(out))
                    .getMessage()
                    .startsWith("save target/never-written: "));
            try (NDManager m = model.manager().newSubManager()) {
                NDArray h = m.zeros(new Shape(1, model.config().hiddenSize()));
                NDArray ids = m.zeros(new Shape(1, 2), DataType.INT64);
                assertThrows(IllegalStateException.class, () -> model.logitsAt(h, ids));
            }
            assertEquals(ref.rows() * ref.width() * ref.vocab(), logits(model, ref).length, "inference still runs");
        }
    }

    /** -Ddistill.linear=matmul, and float16 (no packing there): the model runs the matmul path, unchanged. */
    @ParameterizedTest
    @CsvSource({"llama, FLOAT32, matmul", "qwen2_fp16_tied, FLOAT32, matmul", "qwen2_fp16_tied, FLOAT16, "})
    void whereTheMatmulStaysTheModelIsUnchanged(String variant, DataType dtype, String property) {
        Fixtures.Reference ref = Fixtures.reference(variant);
        float[] plain;
        try (CausalLM model = CausalLM.load(Fixtures.model(variant), dtype, Device.cpu())) {
            plain = logits(model, ref);
        }
        String before = System.getProperty("distill.linear");
        try (CausalLM model = CausalLM.load(Fixtures.model(variant), dtype, Device.cpu())) {
            if (property != null) {
                System.setProperty("distill.linear", property);
            }
            assertFalse(model.packForInference());
            assertFalse(model.packed());
            assertEquals(model.parameters().size(), model.layout().size(), "no weight released");
            assertArrayEquals(plain, logits(model, ref), "the same matmul, bit for bit");
        } finally {
            if (before == null) {
                System.clearProperty("distill.linear");
            } else {
                System.setProperty("distill.linear", before);
            }
        }
    }

    /** The reference batch's logits [B, W, V], flattened. */
    private static float[] logits(CausalLM model, Fixtures.Reference ref) {
        int rows = ref.rows();
        int width = ref.width();
        try (NDManager m = model.manager().newSubManager()) {
            NDArray ids = m.create(Fixtures.Reference.flat(ref.inputIds()), new Shape(rows, width));
            NDArray pos = m.create(Fixtures.Reference.flat(ref.positionIds()), new Shape(rows, width));
            NDArray mask = m.create(Fixtures.Reference.flat(ref.attentionMask()), new Shape(rows, width));
            return model.forward(ids, pos, mask, null).toFloatArray();
        }
    }
}
