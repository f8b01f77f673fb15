package dev.distill.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RandomInitTest {
    static final ModelConfig QWEN2 = ModelConfig.builder("qwen2")
            .vocabSize(1000)
            .hiddenSize(64)
            .intermediateSize(96)
            .numLayers(2)
            .numHeads(4)
            .numKvHeads(2)
            .initializerRange(0.05)
            .tieWordEmbeddings(true)
            .build();

    @Test
    void seededNormalWeightsUnitNormsZeroBiases() {
        try (CausalLM a = CausalLM.randomInit(QWEN2, 42, DataType.FLOAT32, Device.cpu());
                CausalLM b = CausalLM.randomInit(QWEN2, 42, DataType.FLOAT32, Device.cpu());
                CausalLM c = CausalLM.randomInit(QWEN2, 43, DataType.FLOAT32, Device.cpu())) {
            Map<String, NDArray> pa = a.parameters();
            assertEquals(
                    ParameterLayout.of(QWEN2).stream()
                            .map(ParameterLayout.Param::name)
                            .toList(),
                    java.util.List.copyOf(pa.keySet()));
            assertEquals(
                    QWEN2.parameterCount(),
                    pa.values().stream().mapToLong(NDArray::size).sum());
            for (String name : pa.keySet()) {
                float[] va = pa.get(name).toFloatArray();
                assertArrayEquals(va, b.parameters().get(name).toFloatArray(), name + ": same seed, same values");
                if (name.endsWith("norm.weight")) {
                    assertTrue(allEqual(va, 1f), name);
                } else if (name.endsWith(".bias")) {
                    assertTrue(allEqual(va, 0f), name);
                } else {
                    assertFalse(Arrays.equals(va, c.parameters().get(name).toFloatArray()), name + ": other seed");
                    double mean = 0;
                    double sq = 0;
                    for (float v : va) {
                        mean += v;
                        sq += (double) v * v;
                    }
                    mean /= va.length;
                    double std = Math.sqrt(sq / va.length - mean * mean);
                    assertEquals(0.05, std, 0.05 * 0.1, name + " std");
                    assertEquals(0, mean, 0.05 * 0.1, name + " mean");
                }
            }
            assertTrue(pa.containsKey("model.layers.1.self_attn.qkv_proj.bias"));
            assertFalse(pa.containsKey("lm_head.weight"), "tied");
            try (NDManager m = a.manager().newSubManager()) {
                NDArray ids = m.create(new long[] {1, 2, 3, 999}, new Shape(2, 2)); // [2, 2]
                NDArray logits = a.forward(
                        ids,
                        m.create(new long[] {0, 1, 0, 1}, new Shape(2, 2)),
                        m.ones(new Shape(2, 2), DataType.INT64),
                        null);
                assertEquals(new Shape(2, 2, 1000), logits.getShape());
                for (float v : logits.toFloatArray()) {
                    assertTrue(Float.isFinite(v));
                }
            }
        }
    }

    private static boolean allEqual(float[] a, float v) {
        for (float x : a) {
            if (x != v) {
                return false;
            }
        }
        return true;
    }
}
