package dev.distill.pipeline;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import ai.djl.util.cuda.CudaUtils;
import dev.distill.model.ModelConfig;
import java.lang.management.MemoryUsage;

/**
 * The default token budget of a generation batch (--max-batch-tokens): fixed on CPU; on a GPU, what
 * fits in 70% of the free device memory at the model's KV-cache and per-token activation cost. A
 * batch that still runs out of memory is split and retried ({@link OutOfMemory}).
 */
public final class BatchBudget {
    /** The CPU default: batches of a few thousand tokens keep 2-16 cores busy without swapping. */
    public static final int CPU_TOKENS = 16384;

    static final int MIN_TOKENS = 512;
    static final int MAX_TOKENS = 1 << 20;
    static final double FREE_FRACTION = 0.7;

    private BatchBudget() {}

    /** The budget for a model computing in {@code dtype} on {@code device}. */
    public static int defaultTokens(ModelConfig config, DataType dtype, Device device) {
        if (!device.isGpu()) {
            return CPU_TOKENS;
        }
        MemoryUsage mem = CudaUtils.getGpuMemory(device);
        return forFreeMemory(mem.getMax() - mem.getCommitted(), config, dtype);
    }

    /**
     * Tokens that fit in {@code freeBytes}: each token of a batch holds its K and V in every layer,
     * plus one layer's activations while a forward runs (hidden states, q/k/v, MLP gate and up).
     */
    static int forFreeMemory(long freeBytes, ModelConfig c, DataType dtype) {
        long bytes = dtype == DataType.FLOAT16 ? 2 : 4;
        long kv = 2L * c.numLayers() * c.numKvHeads() * c.headDim() * bytes;
        long activations = (4L * c.hiddenSize()
                        + 3L * c.intermediateSize()
                        + (long) (c.numHeads() + 2 * c.numKvHeads()) * c.headDim())
                * bytes;
        long tokens = (long) (freeBytes * FREE_FRACTION) / (kv + activations);
        return (int) Math.max(MIN_TOKENS, Math.min(MAX_TOKENS, tokens));
    }
}
