package dev.distill.trainer.data;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.distill.data.LogitsSpec;
import dev.distill.data.SampledTargets;
import dev.distill.data.SoftLabelRow;
import java.util.Arrays;
import java.util.List;

/** Rows that go through the student together: the host-side batch before it becomes tensors. */
public record MicroBatch(List<TrainRow> rows, int topK) {
    public MicroBatch {
        rows = List.copyOf(rows);
    }

    /** Completion positions trained on: the batch's share of the loss normaliser. */
    public long trainTokens() {
        return rows.stream().mapToLong(TrainRow::trainTokens).sum();
    }

    /** Prompt + completion tokens the student reads (what the token budget counts). */
    public long budgetTokens() {
        return rows.stream().mapToLong(TrainRow::budgetTokens).sum();
    }

    /** Real input positions the student reads (prompt plus completion minus its last token): the normaliser of per-token terms over all inputs. */
    public long inputTokens() {
        return rows.stream().mapToLong(TrainRow::inputLength).sum();
    }

    /** The teacher's own negative log-likelihood of its tokens, summed over the trained positions. */
    public double teacherNll() {
        double sum = 0;
        for (TrainRow r : rows) {
            float[] lp = r.row().completionLogprobs();
            for (int t = r.first(); t < r.end(); t++) {
                sum -= lp[t];
            }
        }
        return sum;
    }

    /**
     * The batch as tensors in {@code manager} (on its device): right-padded inputs with positions
     * 0..len-1, and the trained positions flattened in row-major order (row, then position), each with
     * its stored label entries padded to the batch's widest position.
     *
     * @param logits what the rows store (sampled labels get their target weights)
     */
    public BatchTensors tensors(NDManager manager, LogitsSpec logits) {
        int b = rows.size();
        int len = rows.stream().mapToInt(TrainRow::inputLength).max().orElseThrow();
        int n = Math.toIntExact(trainTokens());
        int[][] offsets = new int[b][];
        int width = 1;
        boolean padded = false;
        for (int i = 0; i < b; i++) {
            TrainRow r = rows.get(i);
            offsets[i] = r.row().labelOffsets(topK);
            for (int t = r.first(); t < r.end(); t++) {
                width = Math.max(width, offsets[i][t + 1] - offsets[i][t]);
            }
        }
        long[] ids = new long[b * len];
        long[] positions = new long[b * len];
        long[] mask = new long[b * len];
        long[] gather = new long[n];
        long[] targets = new long[n];
        float[] targetLogprobs = new float[n];
        long[] labelIds = new long[n * width];
        float[] labelLogprobs = new float[n * width];
        float[] padding = new float[n * width];
        float[] labelWeights = logits != null && logits.sampled() ? new float[n * width] : null;
        long[] top1 = new long[n];
        int out = 0;
        for (int i = 0; i < b; i++) {
            TrainRow r = rows.get(i);
            SoftLabelRow row = r.row();
            int p = row.promptIds().length;
            int inputLen = r.inputLength();
            for (int j = 0; j < len; j++) {
                int at = i * len + j;
                positions[at] = j;
                if (j < inputLen) {
                    ids[at] = j < p ? row.promptIds()[j] : row.completionIds()[j - p];
                    mask[at] = 1;
                }
            }
            for (int t = r.first(); t < r.end(); t++, out++) {
                gather[out] = (long) i * len + p - 1 + t;
                targets[out] = row.completionIds()[t];
                targetLogprobs[out] = row.completionLogprobs()[t];
                int from = offsets[i][t];
                int size = offsets[i][t + 1] - from;
                if (size == 0) { // a corpus row (online teacher): no stored labels, all padding
                    Arrays.fill(labelLogprobs, out * width, (out + 1) * width, Float.NEGATIVE_INFINITY);
                    Arrays.fill(padding, out * width, (out + 1) * width, 1);
                    padded = true;
                    continue;
                }
                int best = from;
                for (int c = 0; c < width; c++) {
                    int o = out * width + c;
                    if (c < size) {
                        labelIds[o] = row.topkIds()[from + c];
                        labelLogprobs[o] = row.topkLogprobs()[from + c];
                        best = row.topkLogprobs()[from + c] > row.topkLogprobs()[best] ? from + c : best;
                    } else { // padding: the first id again (idempotent where ids are scattered), no mass
                        labelIds[o] = row.topkIds()[from];
                        labelLogprobs[o] = Float.NEGATIVE_INFINITY;
                        padding[o] = 1;
                        padded = true;
                    }
                }
                top1[out] = row.topkIds()[best];
                if (labelWeights != null) {
                    double[] w = SampledTargets.weights(logits, row.topkLogprobs(), row.labelCounts(), from, size);
                    for (int c = 0; c < size; c++) {
                        labelWeights[out * width + c] = (float) w[c];
                    }
                }
            }
        }
        return new BatchTensors(
                manager.create(ids, new Shape(b, len)), // [B, L]
                manager.create(positions, new Shape(b, len)), // [B, L]
                manager.create(mask, new Shape(b, len)), // [B, L]
                manager.create(gather, new Shape(n)), // [N]
                manager.create(targets, new Shape(n)), // [N]
                manager.create(labelIds, new Shape(n, width)), // [N, W]
                manager.create(labelLogprobs, new Shape(n, width)), // [N, W]
                manager.ones(new Shape(n)), // [N]
                manager.create(targetLogprobs, new Shape(n)), // [N]
                padded ? manager.create(padding, new Shape(n, width)) : null, // [N, W]
                labelWeights == null ? null : manager.create(labelWeights, new Shape(n, width)), // [N, W]
                manager.create(top1, new Shape(n))); // [N]
    }
}
