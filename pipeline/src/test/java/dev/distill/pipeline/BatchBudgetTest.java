package dev.distill.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import dev.distill.model.ModelConfig;
import org.junit.jupiter.api.Test;

class BatchBudgetTest {
    /** Qwen2-0.5B's shape: 24 layers, 14 heads / 2 KV heads of 64, hidden 896, intermediate 4864. */
    static final ModelConfig QWEN2_05B = ModelConfig.builder("qwen2")
            .vocabSize(151936)
            .hiddenSize(896)
            .intermediateSize(4864)
            .numLayers(24)
            .numHeads(14)
            .numKvHeads(2)
            .maxPositionEmbeddings(32768)
            .build();

    @Test
    void gpuBudgetIsWhatFitsInSeventyPercentOfFreeMemory() {
        // fp16: KV 2*24*2*64*2 = 12288 B/token; activations (4*896 + 3*4864 + 18*64)*2 = 38656 B/token
        long free = 40L << 30; // 40 GiB
        assertEquals(
                (int) ((long) (free * 0.7) / (12288 + 38656)),
                BatchBudget.forFreeMemory(free, QWEN2_05B, DataType.FLOAT16));
        assertEquals(
                2 * BatchBudget.forFreeMemory(free, QWEN2_05B, DataType.FLOAT32),
                BatchBudget.forFreeMemory(free, QWEN2_05B, DataType.FLOAT16),
                1);
    }

    @Test
    void budgetIsClampedAndFixedOnCpu() {
        assertEquals(BatchBudget.MIN_TOKENS, BatchBudget.forFreeMemory(1 << 20, QWEN2_05B, DataType.FLOAT16));
        assertEquals(BatchBudget.MAX_TOKENS, BatchBudget.forFreeMemory(1L << 50, QWEN2_05B, DataType.FLOAT16));
        assertEquals(BatchBudget.CPU_TOKENS, BatchBudget.defaultTokens(QWEN2_05B, DataType.FLOAT32, Device.cpu()));
    }
}
