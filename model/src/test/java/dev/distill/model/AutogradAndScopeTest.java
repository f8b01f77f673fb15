package dev.distill.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The forward pass is differentiable w.r.t. every parameter, and leaves no intermediate arrays behind. */
class AutogradAndScopeTest {
    @Test
    void gradientsReachEveryParameter() {
        gradientsReachEveryParameter(DataType.FLOAT32);
    }

    /** fp16 training: the half-precision forward casts around RMSNorm, softmax and the LM head without cutting the graph. */
    @Test
    void gradientsReachEveryParameterInHalfPrecision() {
        gradientsReachEveryParameter(DataType.FLOAT16);
    }

    private static void gradientsReachEveryParameter(DataType dtype) {
        for (String variant : List.of("qwen2_fp16_tied", "qwen3")) {
            try (CausalLM model = CausalLM.load(Fixtures.model(variant), dtype, Device.cpu());
                    NDManager m = model.manager().newSubManager()) {
                Map<String, NDArray> params = model.parameters();
                params.values().forEach(p -> p.setRequiresGradient(true));
                NDArray ids = m.create(new long[] {0, 0, 7, 8, 9, 10, 11, 12}, new Shape(2, 4)); // [2, 4]
                NDArray pos = m.create(new long[] {1, 1, 0, 1, 0, 1, 2, 3}, new Shape(2, 4)); // [2, 4]
                NDArray mask = m.create(new long[] {0, 0, 1, 1, 1, 1, 1, 1}, new Shape(2, 4)); // [2, 4]
                try (GradientCollector gc = Engines.pytorch().newGradientCollector()) {
                    NDArray logp = model.forward(ids, pos, mask, null).logSoftmax(-1); // [2, 4, V]
                    NDArray loss = logp.get(":, :, 42").mean().neg();
                    gc.backward(loss);
                }
                for (Map.Entry<String, NDArray> e : params.entrySet()) {
                    float[] g = e.getValue().getGradient().toFloatArray();
                    double norm = 0;
                    for (float v : g) {
                        assertTrue(Float.isFinite(v), e.getKey());
                        norm += v * v;
                    }
                    assertTrue(norm > 0, variant + " " + dtype + ": no gradient for " + e.getKey());
                }
            }
        }
    }

    @Test
    void decodeStepsLeaveNoArraysBehind() {
        try (CausalLM model = CausalLM.load(Fixtures.model("llama"), DataType.FLOAT32, Device.cpu());
                KvCache cache = model.newCache(2, 16)) {
            List<Integer> live = new ArrayList<>();
            for (int step = 0; step < 6; step++) {
                int t = step == 0 ? 3 : 1;
                int seen = cache.length() + t;
                try (NDManager m = model.manager().newSubManager()) {
                    NDArray ids = m.ones(new Shape(2, t), DataType.INT64); // [2, t]
                    NDArray pos = m.zeros(new Shape(2, t), DataType.INT64); // [2, t]
                    NDArray mask = m.ones(new Shape(2, seen), DataType.INT64); // [2, seen]
                    NDArray logits = model.forward(ids, pos, mask, cache); // [2, t, V]
                    NDArray hidden = model.hidden(
                            ids.get(":, :1"),
                            pos.get(":, :1"),
                            m.ones(new Shape(2, seen + 1), DataType.INT64),
                            cache); // [2, 1, H]
                    NDArray last = model.logits(hidden); // [2, 1, V]
                    // the 3 inputs, 2 views, 1 mask, and the 3 results: nothing else stayed on the caller's manager
                    assertEquals(9, m.getManagedArrays().size(), "arrays on the input manager");
                    assertEquals(
                            List.of(2L, 1L, 512L),
                            List.of(
                                    last.getShape().get(0),
                                    last.getShape().get(1),
                                    last.getShape().get(2)));
                }
                live.add(model.manager().getManagedArrays().size());
            }
            assertEquals(1, live.stream().distinct().count(), "arrays alive on the model after each step: " + live);
        }
    }
}
