package dev.distill.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A forward with {@link LayerTaps} records the chosen layers' internals and computes the same output. */
class LayerTapsTest {
    private static final long[] IDS = {0, 0, 7, 8, 9, 10, 11, 12}; // [2, 4], row 0 left-padded by 2
    private static final long[] POS = {1, 1, 0, 1, 0, 1, 2, 3};
    private static final long[] MASK = {0, 0, 1, 1, 1, 1, 1, 1};

    @Test
    void recordsHiddenStatesAttentionAndValuesWithoutChangingTheOutput() {
        try (CausalLM model = CausalLM.load(
                        Fixtures.model("llama"), DataType.FLOAT32, Device.cpu()); // 2 layers, 4 heads, 2 KV heads
                NDManager m = model.manager().newSubManager()) {
            NDArray ids = m.create(IDS, new Shape(2, 4));
            NDArray pos = m.create(POS, new Shape(2, 4));
            NDArray mask = m.create(MASK, new Shape(2, 4));
            float[] plain = model.hidden(ids, pos, mask, null).toFloatArray();
            LayerTaps noAttention = new LayerTaps(2, new int[] {0, 1}, new int[] {}, new int[] {0});
            assertArrayEquals(
                    plain,
                    model.hidden(ids, pos, mask, null, noAttention).toFloatArray(),
                    "hidden and value taps do not change the result");
            LayerTaps taps = new LayerTaps(2, new int[] {0, 1}, new int[] {1}, new int[] {0});
            NDArray out = model.hidden(ids, pos, mask, null, taps);
            // asking for attention computes the explicit float32 softmax instead of the fused kernel: equal up to
            // rounding
            assertArrayEquals(plain, out.toFloatArray(), 1e-5f, "attention taps do not change the result");

            // The last layer's hidden state through the final RMSNorm is the output.
            NDArray h = taps.hidden(1); // [2, 4, 64]
            NDArray normed = h.mul(h.square()
                            .mean(new int[] {-1}, true)
                            .add((float) model.config().rmsNormEps())
                            .pow(-0.5f))
                    .mul(model.parameters().get("model.norm.weight"));
            float[] a = normed.toFloatArray();
            for (int i = 0; i < a.length; i++) {
                assertEquals(plain[i], a[i], 1e-5, "final norm of the last hidden state, element " + i);
            }
            assertEquals(new Shape(2, 4, 64), taps.hidden(0).getShape());

            NDArray probs = taps.attention(1); // [2, 4, 4, 4]
            assertEquals(new Shape(2, 4, 4, 4), probs.getShape());
            float[] p = probs.toFloatArray();
            for (int b = 0; b < 2; b++) {
                for (int head = 0; head < 4; head++) {
                    for (int q = 0; q < 4; q++) {
                        if (MASK[b * 4 + q] == 0) {
                            continue; // a padding query sees no key: its row is uniform, and no loss reads it
                        }
                        double sum = 0;
                        for (int k = 0; k < 4; k++) {
                            float v = p[((b * 4 + head) * 4 + q) * 4 + k];
                            boolean visible = k <= q && MASK[b * 4 + k] == 1;
                            if (!visible) {
                                assertEquals(0f, v, "b" + b + " head " + head + " query " + q + " key " + k);
                            }
                            sum += v;
                        }
                        assertEquals(1.0, sum, 1e-6);
                    }
                }
            }
            assertEquals(new Shape(2, 2, 4, 16), taps.values(0).getShape());
            assertThrows(IllegalStateException.class, () -> taps.attention(0));
        }
    }

    @Test
    void recordedHiddenStatesStayInTheAutogradGraph() {
        try (CausalLM model = CausalLM.load(Fixtures.model("llama"), DataType.FLOAT32, Device.cpu());
                NDManager m = model.manager().newSubManager()) {
            Map<String, NDArray> params = model.parameters();
            params.values().forEach(p -> p.setRequiresGradient(true));
            LayerTaps taps = new LayerTaps(2, new int[] {0}, new int[] {0}, new int[0]);
            try (GradientCollector gc = Engines.pytorch().newGradientCollector()) {
                model.hidden(
                        m.create(IDS, new Shape(2, 4)),
                        m.create(POS, new Shape(2, 4)),
                        m.create(MASK, new Shape(2, 4)),
                        null,
                        taps);
                gc.backward(taps.hidden(0)
                        .square()
                        .mean()
                        .add(taps.attention(0).square().mean()));
            }
            assertTrue(params.get("model.layers.0.self_attn.qkv_proj.weight")
                            .getGradient()
                            .abs()
                            .sum()
                            .getFloat()
                    > 0);
            assertEquals(
                    0f,
                    params.get("model.layers.1.self_attn.qkv_proj.weight")
                            .getGradient()
                            .abs()
                            .sum()
                            .getFloat(),
                    "layer 1 is after the tapped layer");
        }
    }

    @Test
    void aLayerOutsideTheModelIsRefused() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> new LayerTaps(2, new int[] {2}, new int[0], new int[0]));
        assertEquals("hidden tap at layer 2: the model has layers 0..1", e.getMessage());
    }
}
