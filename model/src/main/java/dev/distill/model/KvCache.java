package dev.distill.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.JniUtils;
import java.util.function.BiFunction;

/**
 * Preallocated keys and values for incremental decoding: per layer one [B, 2Hkv, capacity, D]
 * buffer, the Hkv key heads then the Hkv value heads, written in place at the next free slots (one
 * write per layer and step, no concatenation). {@link #retain} drops finished rows. Made by
 * {@link CausalLM#newCache}. Sliding-window layers keep every slot too; their attention bias hides the
 * slots outside the window.
 */
public final class KvCache implements AutoCloseable {
    private final NDManager manager;
    private final NDArray[] buffers;
    private final int kvHeads;
    private final int headDim;
    private final int capacity;
    private int batch;
    private int length;

    KvCache(NDManager parent, int layers, int batch, int kvHeads, int capacity, int headDim, DataType dtype) {
        // uninitialised: a slot is written before any forward reads it (reads cover [0, past + T) after the write
        // of [past, past + T)); zeroing first took 234 ms of a 32-row, 256-slot batch (PipelineBench --profile)
        this(parent, layers, batch, kvHeads, capacity, headDim, (m, shape) -> m.create(shape, dtype));
    }

    /**
     * {@code allocate} makes one zeroed buffer on the given manager. When an allocation fails (a device
     * out-of-memory error, which callers retry on smaller batches) the buffers made so far are freed with
     * the cache's sub-manager before the error propagates, so a retry starts with all the memory back.
     */
    KvCache(
            NDManager parent,
            int layers,
            int batch,
            int kvHeads,
            int capacity,
            int headDim,
            BiFunction<NDManager, Shape, NDArray> allocate) {
        if (batch <= 0 || capacity <= 0) {
            throw new IllegalArgumentException(
                    "KV cache needs batchSize > 0 and capacity > 0, got " + batch + ", " + capacity);
        }
        this.manager = parent.newSubManager();
        this.buffers = new NDArray[layers];
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.capacity = capacity;
        this.batch = batch;
        Shape shape = new Shape(batch, 2L * kvHeads, capacity, headDim);
        try {
            for (int i = 0; i < layers; i++) {
                buffers[i] = allocate.apply(manager, shape); // [B, 2Hkv, capacity, D]
            }
        } catch (RuntimeException | Error e) {
            manager.close();
            throw e;
        }
    }

    /** Positions (slots) filled so far; the next forward call writes from here. */
    public int length() {
        return length;
    }

    public int capacity() {
        return capacity;
    }

    public int batchSize() {
        return batch;
    }

    int layers() {
        return buffers.length;
    }

    /**
     * Keeps only batch rows {@code rows} (indices into the current batch, in the order given);
     * the batch size becomes rows.length. The attention mask passed to later calls must be
     * narrowed the same way (e.g. {@code mask.get(manager.create(rows))}).
     */
    public void retain(long[] rows) {
        if (rows.length == 0) {
            throw new IllegalArgumentException("retain: no rows left; close the cache instead");
        }
        for (long r : rows) {
            if (r < 0 || r >= batch) {
                throw new IllegalArgumentException("retain: row " + r + " is outside the batch of " + batch);
            }
        }
        try (NDArray index = manager.create(rows)) { // [B'] int64
            for (int i = 0; i < buffers.length; i++) {
                buffers[i] = replace(buffers[i], Ops.selectRows(buffers[i], index)); // [B', 2Hkv, capacity, D]
            }
        }
        batch = rows.length;
    }

    private static NDArray replace(NDArray old, NDArray fresh) {
        old.close();
        return fresh;
    }

    /** Writes kv [B, 2Hkv, T, D] (keys then values) of {@code layer} into slots [start, start + T). */
    void write(int layer, int start, NDArray kv) {
        long end = start + kv.getShape().get(2);
        JniUtils.indexSet(
                (PtNDArray) buffers[layer],
                (PtNDArray) kv,
                new long[] {0, 0, start, 0},
                new long[] {batch, 2L * kvHeads, end, headDim},
                new long[] {1, 1, 1, 1});
    }

    /** {@code layer}'s whole buffer [B, 2Hkv, capacity, D], for a call that writes and reads it itself ({@link DecodeStep}). */
    NDArray buffer(int layer) {
        return buffers[layer];
    }

    /** View of slots [0, end) of {@code layer}'s keys and values: [B, 2Hkv, end, D] */
    NDArray keysAndValues(int layer, int end) {
        return JniUtils.index(
                (PtNDArray) buffers[layer],
                new long[] {0, 0, 0, 0},
                new long[] {batch, 2L * kvHeads, end, headDim},
                new long[] {1, 1, 1, 1},
                (PtNDManager) manager);
    }

    /** Marks {@code t} more slots as filled (after every layer has written them). */
    void advance(int t) {
        length += t;
    }

    @Override
    public void close() {
        manager.close();
    }
}
