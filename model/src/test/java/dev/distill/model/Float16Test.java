package dev.distill.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

/** float16 compute on the CPU: libtorch runs every op of the forward pass and the cached decode. */
class Float16Test {
    @Test
    void float16ForwardAndCachedDecodeRunOnCpuCloseToTransformersFloat32() {
        Fixtures.Reference ref = Fixtures.reference("llama");
        try (CausalLM model = CausalLM.load(Fixtures.model("llama"), DataType.FLOAT16, Device.cpu())) {
            assertEquals(
                    DataType.FLOAT16,
                    model.parameters().get("model.embed_tokens.weight").getDataType());
            double err = ParityTest.maxLogprobError(model, ref);
            System.out.printf("llama float16 on CPU: max |logprob - transformers float32| = %.3g%n", err);
            assertTrue(err < 0.1, "float16 max |logprob diff| " + err);
            try (NDManager m = model.manager().newSubManager();
                    KvCache cache = model.newCache(1, 4)) {
                NDArray ids = m.create(new long[] {5, 6, 7}, new Shape(1, 3)); // [1, 3]
                NDArray pos = m.create(new long[] {0, 1, 2}, new Shape(1, 3)); // [1, 3]
                NDArray hidden = model.hidden(ids, pos, m.ones(new Shape(1, 3), DataType.INT64), cache);
                assertEquals(DataType.FLOAT16, hidden.getDataType());
                NDArray next = model.forward(
                        m.create(new long[] {8}, new Shape(1, 1)),
                        m.create(new long[] {3}, new Shape(1, 1)),
                        m.ones(new Shape(1, 4), DataType.INT64),
                        cache);
                assertEquals(DataType.FLOAT32, next.getDataType());
                assertEquals(new Shape(1, 1, 512), next.getShape());
            }
        }
    }
}
