package dev.distill.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every fixture variant against the log-probs and greedy tokens transformers recorded for it. */
class ParityTest {
    static final double TOLERANCE = 1e-4;

    static Iterable<String> variants() {
        return Fixtures.VARIANTS;
    }

    /** Max |logprob - reference| over every real position of the reference batch, fp32 on CPU. */
    static double maxLogprobError(CausalLM model, Fixtures.Reference ref) {
        int rows = ref.rows();
        int width = ref.width();
        try (NDManager m = model.manager().newSubManager()) {
            NDArray ids = m.create(Fixtures.Reference.flat(ref.inputIds()), new Shape(rows, width)); // [B, W]
            NDArray pos = m.create(Fixtures.Reference.flat(ref.positionIds()), new Shape(rows, width)); // [B, W]
            NDArray mask = m.create(Fixtures.Reference.flat(ref.attentionMask()), new Shape(rows, width)); // [B, W]
            NDArray logp = model.forward(ids, pos, mask, null).logSoftmax(-1); // [B, W, V]
            assertEquals(DataType.FLOAT32, logp.getDataType());
            float[] got = logp.toFloatArray();
            int v = ref.vocab();
            double max = 0;
            int r = 0;
            for (int b = 0; b < rows; b++) {
                for (int t = 0; t < width; t++) {
                    if (ref.attentionMask()[b][t] == 0) {
                        continue;
                    }
                    for (int k = 0; k < v; k++) {
                        max = Math.max(max, Math.abs(got[(b * width + t) * v + k] - ref.logprobs()[r * v + k]));
                    }
                    r++;
                }
            }
            assertEquals(ref.logprobs().length / v, r, "real positions");
            return max;
        }
    }

    @ParameterizedTest
    @MethodSource("variants")
    void logprobsMatchTransformersAtEveryRealPosition(String variant) {
        Fixtures.Reference ref = Fixtures.reference(variant);
        try (CausalLM model = CausalLM.load(Fixtures.model(variant), DataType.FLOAT32, Device.cpu())) {
            double err = maxLogprobError(model, ref);
            System.out.printf("%s: max |logprob - transformers| = %.3g%n", variant, err);
            assertTrue(err < TOLERANCE, variant + ": max |logprob diff| " + err);
        }
    }

    @ParameterizedTest
    @MethodSource("variants")
    void greedyContinuationsMatchTransformers(String variant) {
        Fixtures.Reference ref = Fixtures.reference(variant);
        try (CausalLM model = CausalLM.load(Fixtures.model(variant), DataType.FLOAT32, Device.cpu())) {
            assertArrayEquals(ref.eos(), model.config().eosTokenIds(), "eos ids incl. generation_config.json");
            int[][] got = GreedyDecoder.generate(model, ref, ref.greedy()[0].length);
            for (int b = 0; b < ref.rows(); b++) {
                assertArrayEquals(ref.greedy()[b], got[b], variant + " row " + b);
            }
        }
    }
}
