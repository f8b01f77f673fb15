package dev.distill.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDManager;
import org.junit.jupiter.api.Test;

class FusedAttentionTest {
    @Test
    void matchesExplicitSoftmaxAttention() {
        try (NDManager m = Engines.pytorch().newBaseManager();
                FusedAttention sdpa = new FusedAttention((PtNDManager) m)) {
            m.getEngine().setRandomSeed(3);
            NDArray q = m.randomNormal(new Shape(2, 3, 5, 8));
            NDArray k = m.randomNormal(new Shape(2, 3, 7, 8));
            NDArray v = m.randomNormal(new Shape(2, 3, 7, 8));
            NDArray mask = m.randomUniform(0, 1, new Shape(2, 1, 5, 7))
                    .lt(0.3)
                    .toType(DataType.FLOAT32, false)
                    .mul(-1e9f);
            NDArray fused = sdpa.apply(q, k, v, mask);
            NDArray explicit = q.matMul(k.transpose(0, 1, 3, 2))
                    .div(Math.sqrt(8))
                    .add(mask)
                    .softmax(-1)
                    .matMul(v);
            assertEquals(new Shape(2, 3, 5, 8), fused.getShape());
            float diff = fused.sub(explicit).abs().max().getFloat();
            assertTrue(diff < 1e-5, "max difference " + diff);
        }
    }
}
