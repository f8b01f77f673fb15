package dev.distill.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.distill.testing.DecodeProperty;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link CausalLM#decode} (the step's inputs in one call, {@link DecodeInputs}; positions read off the mask) against
 * {@link CausalLM#hidden} fed the positions and the mask slice a caller made before: the same hidden states to the bit
 * at every step, also after a row is retired, past a sliding window (mistral) and op by op ({@code
 * -Ddistill.decode=ops}).
 */
class DecodeInputsTest {
    @ParameterizedTest
    @CsvSource({
        "llama, FLOAT32, ",
        "llama, FLOAT32, ops",
        "qwen2_fp16_tied, FLOAT16, ",
        "mistral_sliding, FLOAT32, ",
        "qwen3, FLOAT32, ",
        "qwen3_layer_types, FLOAT32, "
    })
    void decodeEqualsHiddenAtTheMasksPositions(String variant, DataType dtype, String decodeProperty) {
        String before = DecodeProperty.get();
        DecodeProperty.set(decodeProperty);
        try (CausalLM model = CausalLM.load(Fixtures.model(variant), dtype, Device.cpu());
                NDManager m = model.manager().newSubManager();
                KvCache viaDecode = model.newCache(3, KvCacheTest.WIDTH);
                KvCache viaHidden = model.newCache(3, KvCacheTest.WIDTH)) {
            DecodeProperty.set(before);
            assertEquals(decodeProperty == null, model.fusedDecode());
            Batching.LeftPadded prompts = Batching.leftPad(List.of(KvCacheTest.PROMPTS), KvCacheTest.PROMPT_WIDTH, 0);
            NDArray mask = m.ones(new Shape(3, KvCacheTest.WIDTH), DataType.INT64); // [3, cap]
            mask.set(new NDIndex(":, :" + KvCacheTest.PROMPT_WIDTH), prompts.attentionMask(m));
            NDArray pos = prompts.positionIds(m); // [3, 6]
            NDArray promptMask = mask.get(":, :" + KvCacheTest.PROMPT_WIDTH);
            model.hidden(prompts.inputIds(m), pos, promptMask, viaDecode);
            NDArray h = model.hidden(prompts.inputIds(m), pos, promptMask, viaHidden); // [3, 6, H]
            NDArray next = model.logits(h.get(":, -1:, :")).argMax(2); // [B, 1]
            pos = pos.get(":, -1:").add(1); // [B, 1]
            for (int step = 0; step < 5; step++) {
                NDArray a = model.decode(next, mask, viaDecode); // [B, 1, H]
                NDArray b = model.hidden(next, pos, mask.get(":, :" + (viaHidden.length() + 1)), viaHidden);
                assertEquals(b.getShape(), a.getShape());
                assertArrayEquals(
                        b.toType(DataType.FLOAT32, false).toFloatArray(),
                        a.toType(DataType.FLOAT32, false).toFloatArray(),
                        variant + " step " + step);
                next = model.logits(a).argMax(2);
                pos = pos.add(1);
                if (step == 1) {
                    long[] kept = {0, 2};
                    viaDecode.retain(kept);
                    viaHidden.retain(kept);
                    NDArray rows = m.create(kept);
                    mask = mask.get(rows);
                    next = next.get(rows);
                    pos = pos.get(rows);
                }
            }
            NDArray two = m.create(new long[] {1, 2}, new Shape(1, 2));
            NDArray narrowed = mask;
            assertThrows(IllegalArgumentException.class, () -> model.decode(two, narrowed, viaDecode));
        } finally {
            DecodeProperty.set(before);
        }
    }
}
