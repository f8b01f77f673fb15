package dev.distill.model;

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
            Batching.LeftPadded prompts = Batching.leftPad(List.of(KvCacheTest.PROMPTS), KvCacheTest.PROMPT_WIDTH, 0);
            NDArray mask = m.ones(new Shape(3, KvCacheTest.WIDTH), DataType.INT64);
            mask.set(new NDIndex(":, :" + KvCacheTest.PROMPT_WIDTH), prompts.attentionMask(m));
            NDArray pos = prompts.positionIds(m); // [3, 6]
            NDArray logits =
                    model.forward(prompts.inputIds(m), pos, mask.get(":, :" + KvCacheTest.PROMPT_WIDTH), cache);
            NDArray next = logits.get(":, -1:, :").argMax(2); // [B, 1]
            pos = pos.get(":, -1:").add(1); // [B, 1]
            List<float[]> out = new ArrayList<>();
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
}
