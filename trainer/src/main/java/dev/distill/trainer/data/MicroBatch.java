package dev.distill.trainer.data;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.distill.data.SoftLabelRow;
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
     * 0..len-1, and the trained positions flattened in row-major order (row, then position).
     */
    public BatchTensors tensors(NDManager manager) {
        int b = rows.size();
        int len = rows.stream().mapToInt(TrainRow::inputLength).max().orElseThrow();
        int n = Math.toIntExact(trainTokens());
        long[] ids = new long[b * len];
        long[] positions = new long[b * len];
        long[] mask = new long[b * len];
        long[] gather = new long[n];
        long[] targets = new long[n];
        float[] targetLogprobs = new float[n];
        long[] topkIds = new long[n * topK];
        float[] topkLogprobs = new float[n * topK];
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
                for (int c = 0; c < topK; c++) {
                    topkIds[out * topK + c] = row.topkIds()[t * topK + c];
                    topkLogprobs[out * topK + c] = row.topkLogprobs()[t * topK + c];
                }
            }
        }
        return new BatchTensors(
                manager.create(ids, new Shape(b, len)), // [B, L]
                manager.create(positions, new Shape(b, len)), // [B, L]
                manager.create(mask, new Shape(b, len)), // [B, L]
                manager.create(gather, new Shape(n)), // [N]
                manager.create(targets, new Shape(n)), // [N]
                manager.create(topkIds, new Shape(n, topK)), // [N, k]
                manager.create(topkLogprobs, new Shape(n, topK)), // [N, k]
                manager.ones(new Shape(n)), // [N]
                manager.create(targetLogprobs, new Shape(n))); // [N]
    }
}
