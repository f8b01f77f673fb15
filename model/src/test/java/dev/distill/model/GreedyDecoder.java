package dev.distill.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Greedy decoding the way transformers' generate(do_sample=False) does it, on a preallocated KV
 * cache: prefill the left-padded prompts, then one token per step; a row that emits an eos id is
 * finished (its remaining tokens are the pad id) and dropped from the cache with retain().
 */
final class GreedyDecoder {
    private GreedyDecoder() {}

    static int[][] generate(CausalLM model, Fixtures.Reference ref, int newTokens) {
        int rows = ref.rows();
        int width = ref.width();
        int capacity = width + newTokens;
        long[] mask = new long[rows * capacity]; // [B, capacity]: prompt mask, then ones
        int[] realLength = new int[rows];
        for (int b = 0; b < rows; b++) {
            System.arraycopy(ref.attentionMask()[b], 0, mask, b * capacity, width);
            Arrays.fill(mask, b * capacity + width, (b + 1) * capacity, 1L);
            realLength[b] = (int) Arrays.stream(ref.attentionMask()[b]).sum();
        }
        int[][] out = new int[rows][newTokens];
        for (int[] row : out) {
            Arrays.fill(row, ref.pad());
        }
        List<Integer> active = new ArrayList<>();
        for (int b = 0; b < rows; b++) {
            active.add(b);
        }
        try (NDManager m = model.manager().newSubManager();
                KvCache cache = model.newCache(rows, capacity)) {
            long[] next = null;
            for (int step = 0; step < newTokens && !active.isEmpty(); step++) {
                try (NDManager sm = m.newSubManager()) {
                    int n = active.size();
                    NDArray ids;
                    NDArray pos;
                    if (step == 0) {
                        ids = sm.create(Fixtures.Reference.flat(ref.inputIds()), new Shape(rows, width)); // [B, W]
                        pos = sm.create(Fixtures.Reference.flat(ref.positionIds()), new Shape(rows, width)); // [B, W]
                    } else {
                        ids = sm.create(next, new Shape(n, 1)); // [Ba, 1]
                        long[] p = new long[n];
                        for (int i = 0; i < n; i++) {
                            p[i] = realLength[active.get(i)] + step - 1;
                        }
                        pos = sm.create(p, new Shape(n, 1)); // [Ba, 1]
                    }
                    int seen = width + step;
                    long[] stepMask = new long[n * seen];
                    for (int i = 0; i < n; i++) {
                        System.arraycopy(mask, active.get(i) * capacity, stepMask, i * seen, seen);
                    }
                    NDArray attention = sm.create(stepMask, new Shape(n, seen)); // [Ba, seen]
                    NDArray hidden = model.hidden(ids, pos, attention, cache); // [Ba, T, H]
                    long t = hidden.getShape().get(1);
                    NDArray last = hidden.get(":, " + (t - 1) + ", :"); // [Ba, H]
                    long[] tokens = model.logits(last).argMax(1).toLongArray(); // [Ba]
                    List<Integer> keep = new ArrayList<>();
                    List<Long> keptTokens = new ArrayList<>();
                    for (int i = 0; i < n; i++) {
                        int row = active.get(i);
                        int token = (int) tokens[i];
                        out[row][step] = token;
                        if (Arrays.stream(ref.eos()).noneMatch(e -> e == token)) {
                            keep.add(i);
                            keptTokens.add(tokens[i]);
                        }
                    }
                    if (keep.size() < n && !keep.isEmpty()) {
                        cache.retain(keep.stream().mapToLong(Integer::longValue).toArray());
                    }
                    List<Integer> nextActive = new ArrayList<>();
                    keep.forEach(i -> nextActive.add(active.get(i)));
                    active.clear();
                    active.addAll(nextActive);
                    next = keptTokens.stream().mapToLong(Long::longValue).toArray();
                }
            }
        }
        return out;
    }
}
