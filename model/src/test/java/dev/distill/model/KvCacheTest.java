package dev.distill.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Incremental decoding on the preallocated cache against one full forward over the same tokens,
 * also for sliding windows (3 to 5) shorter than the 11 positions decoded.
 */
class KvCacheTest {
    static final double TOLERANCE = 1e-4;

    // Three prompts of different lengths, each followed by the same 5 continuation tokens.
    static final int[][] PROMPTS = {{17, 300, 42, 8, 99, 411}, {5, 77, 260}, {123}};
    static final int[][] CONTINUATIONS = {{12, 13, 14, 15, 16}, {200, 201, 202, 203, 204}, {3, 4, 5, 6, 7}};
    static final int PROMPT_WIDTH = 6;
    static final int WIDTH = PROMPT_WIDTH + 5;

    /** Left-padded prompt + continuation: the layout incremental decoding builds up column by column. */
    static Batching.LeftPadded full() {
        List<int[]> seqs = new ArrayList<>();
        for (int b = 0; b < PROMPTS.length; b++) {
            int[] s = new int[PROMPTS[b].length + 5];
            System.arraycopy(PROMPTS[b], 0, s, 0, PROMPTS[b].length);
            System.arraycopy(CONTINUATIONS[b], 0, s, PROMPTS[b].length, 5);
            seqs.add(s);
        }
        return Batching.leftPad(seqs, WIDTH, 0);
    }

    @ParameterizedTest
    @ValueSource(strings = {"qwen2_fp16_tied", "mistral_sliding", "qwen2_sliding", "qwen3_layer_types"})
    void incrementalLogitsEqualFullForwardIncludingChunksAndRetainedRows(String variant) {
        Batching.LeftPadded all = full();
        try (CausalLM model = CausalLM.load(Fixtures.model(variant), DataType.FLOAT32, Device.cpu());
                NDManager m = model.manager().newSubManager();
                KvCache cache = model.newCache(3, WIDTH)) {
            NDArray ids = all.inputIds(m); // [3, 11]
            NDArray mask = all.attentionMask(m); // [3, 11]
            NDArray pos = all.positionIds(m); // [3, 11]
            float[][][] expected = toRows(model.forward(ids, pos, mask, null)); // [3][11][V]

            // prefill the prompts: columns [0, 6)
            NDArray logits = model.forward(ids.get(":, :6"), pos.get(":, :6"), mask.get(":, :6"), cache);
            assertEquals(6, cache.length());
            assertClose(expected, new int[] {0, 1, 2}, 0, toRows(logits));
            // a chunk of two tokens at once: columns [6, 8)
            logits = model.forward(ids.get(":, 6:8"), pos.get(":, 6:8"), mask.get(":, :8"), cache);
            assertClose(expected, new int[] {0, 1, 2}, 6, toRows(logits));
            // one token: column 8
            logits = model.forward(ids.get(":, 8:9"), pos.get(":, 8:9"), mask.get(":, :9"), cache);
            assertClose(expected, new int[] {0, 1, 2}, 8, toRows(logits));

            // drop row 1 and swap the others: the cache now holds rows (2, 0)
            cache.retain(new long[] {2, 0});
            assertEquals(2, cache.batchSize());
            assertEquals(9, cache.length());
            NDArray kept = m.create(new long[] {2, 0}); // [2]
            NDArray ids2 = ids.get(kept); // [2, 11] rows 2 and 0
            NDArray mask2 = mask.get(kept);
            NDArray pos2 = pos.get(kept);
            for (int col = 9; col < WIDTH; col++) {
                String c = ":, " + col + ":" + (col + 1);
                logits = model.forward(ids2.get(c), pos2.get(c), mask2.get(":, :" + (col + 1)), cache);
                assertClose(expected, new int[] {2, 0}, col, toRows(logits));
            }
            assertEquals(WIDTH, cache.length());

            IllegalArgumentException full = assertThrows(
                    IllegalArgumentException.class,
                    () -> model.forward(
                            ids2.get(":, :1"),
                            pos2.get(":, :1"),
                            m.ones(new Shape(2, WIDTH + 1), DataType.INT64),
                            cache));
            assertEquals("cache capacity 11 exceeded: 11 cached + 1 new positions", full.getMessage());
        }
    }

    @Test
    void retainChecksRowsAndInputsMustMatchTheCache() {
        try (CausalLM model = CausalLM.load(Fixtures.model("qwen2_fp16_tied"), DataType.FLOAT32, Device.cpu());
                NDManager m = model.manager().newSubManager();
                KvCache cache = model.newCache(2, 4)) {
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> cache.retain(new long[] {0, 2}));
            assertEquals("retain: row 2 is outside the batch of 2", e.getMessage());
            NDArray ids = m.create(new long[] {1, 2, 3}, new Shape(3, 1)); // [3, 1]
            NDArray mask = m.ones(new Shape(3, 1), DataType.INT64); // [3, 1]
            e = assertThrows(IllegalArgumentException.class, () -> model.forward(ids, ids, mask, cache));
            assertEquals("cache holds 2 rows of 2 layers; inputs have 3 rows for 2 layers", e.getMessage());
            NDArray badMask = m.ones(new Shape(3, 2), DataType.INT64); // [3, 2]
            e = assertThrows(IllegalArgumentException.class, () -> model.forward(ids, ids, badMask, null));
            assertEquals("attentionMask: expected [B, cached + T] = (3, 1), got (3, 2)", e.getMessage());
        }
    }

    static float[][][] toRows(NDArray logits) {
        Shape s = logits.getShape(); // [B, T, V]
        int b = (int) s.get(0);
        int t = (int) s.get(1);
        int v = (int) s.get(2);
        float[] flat = logits.toFloatArray();
        float[][][] out = new float[b][t][v];
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < t; j++) {
                System.arraycopy(flat, (i * t + j) * v, out[i][j], 0, v);
            }
        }
        return out;
    }

    /** got[i][j] must equal expected[rows[i]][firstCol + j] at every real (unmasked) position. */
    static void assertClose(float[][][] expected, int[] rows, int firstCol, float[][][] got) {
        Batching.LeftPadded all = full();
        double max = 0;
        int compared = 0;
        for (int i = 0; i < rows.length; i++) {
            for (int j = 0; j < got[i].length; j++) {
                int col = firstCol + j;
                if (all.attentionMask()[rows[i] * WIDTH + col] == 0) {
                    continue;
                }
                for (int k = 0; k < got[i][j].length; k++) {
                    max = Math.max(max, Math.abs(got[i][j][k] - expected[rows[i]][col][k]));
                }
                compared++;
            }
        }
        assertTrue(compared > 0);
        System.out.printf(
                "KV cache vs full forward, rows %s from column %d: max |logit diff| = %.3g%n",
                java.util.Arrays.toString(rows), firstCol, max);
        assertTrue(max < TOLERANCE, "max |incremental - full| logit diff " + max + " at column " + firstCol);
    }

    /** An allocation failing part way (the out-of-memory case OutOfMemory retries) leaves nothing attached. */
    @Test
    void failedConstructionFreesTheBuffersAlreadyAllocated() {
        try (NDManager parent = NDManager.newBaseManager(Device.cpu())) {
            int[] calls = {0};
            IllegalStateException oom = new IllegalStateException("injected: CUDA out of memory");
            IllegalStateException e = assertThrows(
                    IllegalStateException.class,
                    () -> new KvCache(parent, 4, 2, 2, 8, 16, (m, shape) -> {
                        if (++calls[0] == 3) {
                            throw oom;
                        }
                        return m.zeros(shape, DataType.FLOAT32);
                    }));
            assertEquals(oom, e);
            assertEquals(3, calls[0]);
            assertEquals(List.of(), parent.getManagedArrays(), "the 2 buffers allocated before the failure are freed");
            try (KvCache ok = new KvCache(parent, 4, 2, 2, 8, 16, DataType.FLOAT32)) {
                assertEquals(4, parent.getManagedArrays().size()); // one keys-and-values buffer per layer
            }
            assertEquals(List.of(), parent.getManagedArrays());
        }
    }
}
