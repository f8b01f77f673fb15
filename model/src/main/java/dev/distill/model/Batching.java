package dev.distill.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.List;

/**
 * Left-padded batches for {@link CausalLM}: token ids, attention mask and position ids built from
 * the sequences' lengths, the way transformers' generate() builds them.
 */
public final class Batching {
    private Batching() {}

    /** A left-padded batch on the host, row-major [rows, width] arrays. */
    public record LeftPadded(
            int rows, int width, int[] lengths, long[] inputIds, long[] attentionMask, long[] positionIds) {

        /** inputIds [B, W] int64 on {@code m}'s device */
        public NDArray inputIds(NDManager m) {
            return m.create(inputIds, new Shape(rows, width));
        }

        /** attentionMask [B, W] int64 (1 = real token) on {@code m}'s device */
        public NDArray attentionMask(NDManager m) {
            return m.create(attentionMask, new Shape(rows, width));
        }

        /** positionIds [B, W] int64 on {@code m}'s device */
        public NDArray positionIds(NDManager m) {
            return m.create(positionIds, new Shape(rows, width));
        }
    }

    /** Left-pads {@code sequences} with {@code padId} to the longest one. */
    public static LeftPadded leftPad(List<int[]> sequences, long padId) {
        int width = sequences.stream().mapToInt(s -> s.length).max().orElse(0);
        return leftPad(sequences, width, padId);
    }

    /** Left-pads {@code sequences} with {@code padId} to {@code width} columns. */
    public static LeftPadded leftPad(List<int[]> sequences, int width, long padId) {
        int rows = sequences.size();
        int[] lengths = new int[rows];
        long[] ids = new long[rows * width];
        Arrays.fill(ids, padId);
        for (int b = 0; b < rows; b++) {
            int[] seq = sequences.get(b);
            if (seq.length > width) {
                throw new IllegalArgumentException(
                        "sequence " + b + " has " + seq.length + " tokens, more than width " + width);
            }
            lengths[b] = seq.length;
            for (int t = 0; t < seq.length; t++) {
                ids[b * width + width - seq.length + t] = seq[t];
            }
        }
        return new LeftPadded(rows, width, lengths, ids, attentionMask(lengths, width), positionIds(lengths, width));
    }

    /** [B, width] row-major: 0 for the left padding, 1 for each row's last lengths[b] columns. */
    public static long[] attentionMask(int[] lengths, int width) {
        long[] mask = new long[lengths.length * width];
        for (int b = 0; b < lengths.length; b++) {
            Arrays.fill(mask, b * width + width - lengths[b], (b + 1) * width, 1L);
        }
        return mask;
    }

    /**
     * [B, width] row-major: 0, 1, 2, ... over each row's real tokens; 1 on padding (as transformers'
     * generate: cumsum(mask) - 1, padding filled with 1; padded positions never reach a real token).
     */
    public static long[] positionIds(int[] lengths, int width) {
        long[] pos = new long[lengths.length * width];
        for (int b = 0; b < lengths.length; b++) {
            int pad = width - lengths[b];
            for (int t = 0; t < width; t++) {
                pos[b * width + t] = t < pad ? 1 : t - pad;
            }
        }
        return pos;
    }
}
