package dev.distill.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.distill.testing.DecodeProperty;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A decode step with each layer as one call ({@link DecodeStep}) against the same model run op by op
 * ({@code -Ddistill.decode=ops}): the logits of every decode step, also after rows are retired, with q/k/v biases
 * (qwen2), sliding windows (mistral) and in float16.
 */
class DecodeStepTest {
    @ParameterizedTest
    @CsvSource({
        "llama, FLOAT32",
        "qwen2_fp16_tied, FLOAT32",
        "qwen2_fp16_tied, FLOAT16",
        "mistral_sliding, FLOAT32",
        "qwen3, FLOAT32",
        "qwen3_layer_types, FLOAT32"
    })
    void oneCallPerLayerEqualsTheOpByOpStep(String variant, DataType dtype) {
        assertSameLogits(
                variant + " " + dtype,
                decodeLogits(variant, dtype, "ops", false),
                decodeLogits(variant, dtype, null, false));
    }

    /** The same with the projections on oneDNN-packed weights ({@link CausalLM#packForInference}) in both. */
    @ParameterizedTest
    @CsvSource({"llama", "qwen2_fp16_tied", "mistral_sliding", "qwen3"})
    void oneCallPerLayerEqualsTheOpByOpStepOnPackedWeights(String variant) {
        assertSameLogits(
                variant + " packed",
                decodeLogits(variant, DataType.FLOAT32, "ops", true),
                decodeLogits(variant, DataType.FLOAT32, null, true));
    }

    private static void assertSameLogits(String what, List<float[]> ops, List<float[]> oneCall) {
        assertEquals(ops.size(), oneCall.size());
        double max = 0;
        for (int s = 0; s < ops.size(); s++) {
            assertEquals(ops.get(s).length, oneCall.get(s).length);
            for (int i = 0; i < ops.get(s).length; i++) {
                max = Math.max(max, Math.abs(ops.get(s)[i] - oneCall.get(s)[i]));
            }
        }
        System.out.printf("%s: max |one call - op by op| logit diff over %d steps = %.3g%n", what, ops.size(), max);
        assertTrue(max <= 1e-5, what + ": max logit diff " + max);
    }

    /**
     * Prefill of KvCacheTest's three left-padded prompts, then 5 greedy steps of one token each, the middle row
     * retired after the second: each step's logits [Ba, V]. {@code packed}: after {@link CausalLM#packForInference}.
     */
    static List<float[]> decodeLogits(String variant, DataType dtype, String decodeProperty, boolean packed) {
        String before = DecodeProperty.get();
        DecodeProperty.set(decodeProperty);
        try (CausalLM model = CausalLM.load(Fixtures.model(variant), dtype, Device.cpu());
                NDManager m = model.manager().newSubManager();
                KvCache cache = model.newCache(3, KvCacheTest.WIDTH)) {
            DecodeProperty.set(before);
            if (packed) {
                assertTrue(model.packForInference(), variant + " packs");
            }
            NDArray mask = mask(m);
            NDArray next = prefill(model, m, mask, cache); // [B, 1]
            NDArray pos = Batching.leftPad(List.of(KvCacheTest.PROMPTS), KvCacheTest.PROMPT_WIDTH, 0)
                    .positionIds(m)
                    .get(":, -1:")
                    .add(1); // [B, 1]
            List<float[]> out = new ArrayList<>();
            NDArray logits;
            for (int step = 0; step < 5; step++) {
                logits = model.forward(next, pos, mask.get(":, :" + (cache.length() + 1)), cache); // [B, 1, V]
                out.add(logits.toFloatArray());
                next = logits.argMax(2);
                pos = pos.add(1);
                if (step == 1) {
                    long[] kept = {0, 2};
                    cache.retain(kept);
                    NDArray rows = m.create(kept);
                    mask = mask.get(rows);
                    next = next.get(rows);
                    pos = pos.get(rows);
                }
            }
            return out;
        } finally {
            DecodeProperty.set(before);
        }
    }

    /**
     * The whole decoder stack as one call ({@link CausalLM#decode}, {@link DecodeStep#applyStack}) against one call
     * per layer ({@link CausalLM#hidden} at T = 1 runs {@link DecodeStep#apply} per layer) on two caches of the same
     * model: every step's final-norm hidden states and every cache slot equal to the bit, with the middle row retired
     * after the second step, and again on a cache allocated after the first is closed. mistral: its fixture's
     * architecture with random weights and a window of 8 slots, so that the first two steps run as one call and the
     * later ones, past the window, op by op ({@link CausalLM#decode}'s sliding-window path).
     */
    @ParameterizedTest
    @CsvSource({
        "llama, false",
        "llama, true",
        "qwen2_fp16_tied, false",
        "qwen2_fp16_tied, true",
        "mistral_sliding, false",
        "mistral_sliding, true",
        "qwen3, false",
        "qwen3, true"
    })
    void oneCallStackEqualsOneCallPerLayer(String variant, boolean packed) {
        try (CausalLM model = variant.startsWith("mistral")
                ? CausalLM.randomInit(
                        ModelConfig.load(Fixtures.model(variant)).toBuilder()
                                .slidingWindow(8)
                                .build(),
                        1,
                        DataType.FLOAT32,
                        Device.cpu())
                : CausalLM.load(Fixtures.model(variant), DataType.FLOAT32, Device.cpu())) {
            assertTrue(model.fusedDecode(), variant);
            if (packed) {
                assertTrue(model.packForInference(), variant + " packs");
            }
            for (int run = 0; run < 2; run++) { // the second on freshly allocated caches
                try (NDManager m = model.manager().newSubManager();
                        KvCache stacked = model.newCache(3, KvCacheTest.WIDTH);
                        KvCache perLayer = model.newCache(3, KvCacheTest.WIDTH)) {
                    NDArray mask = mask(m);
                    NDArray next = prefill(model, m, mask, stacked);
                    assertArrayEquals(
                            next.toLongArray(),
                            prefill(model, m, mask, perLayer).toLongArray());
                    NDArray pos = Batching.leftPad(List.of(KvCacheTest.PROMPTS), KvCacheTest.PROMPT_WIDTH, 0)
                            .positionIds(m)
                            .get(":, -1:")
                            .add(1); // [B, 1]
                    for (int step = 0; step < 5; step++) {
                        NDArray seen = mask.get(":, :" + (perLayer.length() + 1));
                        NDArray one = model.decode(next, mask, stacked); // [B, 1, H]
                        NDArray each = model.hidden(next, pos, seen, perLayer); // [B, 1, H]
                        String what = variant + (packed ? " packed" : "") + " run " + run + " step " + step;
                        assertArrayEquals(each.toFloatArray(), one.toFloatArray(), what);
                        assertEquals(perLayer.length(), stacked.length(), what);
                        for (int l = 0; l < model.config().numLayers(); l++) {
                            assertArrayEquals(
                                    perLayer.keysAndValues(l, perLayer.length()).toFloatArray(),
                                    stacked.keysAndValues(l, stacked.length()).toFloatArray(),
                                    what + " layer " + l + " cache");
                        }
                        next = model.logits(one).argMax(2); // [B, 1]
                        pos = pos.add(1);
                        if (step == 1) {
                            long[] kept = {0, 2};
                            stacked.retain(kept);
                            perLayer.retain(kept);
                            NDArray rows = m.create(kept);
                            mask = mask.get(rows);
                            next = next.get(rows);
                            pos = pos.get(rows);
                        }
                    }
                }
            }
        }
    }

    /** The attention mask of KvCacheTest's three left-padded prompts and the slots after them: [3, WIDTH] int64. */
    private static NDArray mask(NDManager m) {
        Batching.LeftPadded prompts = Batching.leftPad(List.of(KvCacheTest.PROMPTS), KvCacheTest.PROMPT_WIDTH, 0);
        NDArray mask = m.ones(new Shape(3, KvCacheTest.WIDTH), DataType.INT64);
        mask.set(new NDIndex(":, :" + KvCacheTest.PROMPT_WIDTH), prompts.attentionMask(m));
        return mask;
    }

    /** The prompts' prefill into {@code cache}: each row's greedy next token [3, 1]. */
    private static NDArray prefill(CausalLM model, NDManager m, NDArray mask, KvCache cache) {
        Batching.LeftPadded prompts = Batching.leftPad(List.of(KvCacheTest.PROMPTS), KvCacheTest.PROMPT_WIDTH, 0);
        NDArray logits = model.forward(
                prompts.inputIds(m), prompts.positionIds(m), mask.get(":, :" + KvCacheTest.PROMPT_WIDTH), cache);
        return logits.get(":, -1:, :").argMax(2); // [B, 1]
    }
}
