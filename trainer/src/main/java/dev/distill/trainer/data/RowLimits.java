package dev.distill.trainer.data;

import dev.distill.data.SoftLabelRow;

/**
 * What a model can take: every token id below its vocabulary size, sequences within its context.
 * Turns stream rows into {@link TrainRow}s, refusing ids the model has no embedding for.
 *
 * @param role "student" or "model", for messages
 * @param checkContents false to look at lengths only (for counting batches over rows read without
 *     their top-k columns)
 */
public record RowLimits(int vocabSize, int maxPositions, int topK, String role, boolean checkContents) {

    /** Limits that check every row's contents. */
    public RowLimits(int vocabSize, int maxPositions, int topK, String role) {
        this(vocabSize, maxPositions, topK, role, true);
    }

    /** The same limits, looking at lengths only. */
    public RowLimits lengthsOnly() {
        return new RowLimits(vocabSize, maxPositions, topK, role, false);
    }

    /**
     * The row's trainable range, or null when it has none (empty completion, or a prompt that fills
     * the whole context). A completion that overruns the context is cut at its end.
     *
     * @throws IllegalArgumentException naming the shard, sample and column of an id >= the vocabulary
     *     size, or of arrays whose lengths do not match
     */
    public TrainRow admit(PositionedRow p) {
        SoftLabelRow r = p.row();
        int c = r.completionIds().length;
        if (checkContents) {
            check(p);
        }
        int p0 = r.promptIds().length;
        int first = Math.max(0, 1 - p0);
        int end = Math.min(c, maxPositions - p0 + 1);
        return end > first ? new TrainRow(p, first, end) : null;
    }

    private void check(PositionedRow p) {
        SoftLabelRow r = p.row();
        String where = p.shard().label() + ": sample " + r.sampleId() + ": ";
        int c = r.completionIds().length;
        if (r.labelSizes() != null && r.labelSizes().length != c) {
            throw new IllegalArgumentException(where + "label_sizes holds " + r.labelSizes().length
                    + " values, expected " + c + " completion tokens");
        }
        long entries = r.labelOffsets(topK)[c];
        if (r.topkIds().length != entries || r.topkLogprobs().length != entries) {
            throw new IllegalArgumentException(where + "topk_ids/topk_logprobs hold " + r.topkIds().length + "/"
                    + r.topkLogprobs().length + " values, expected " + entries
                    + (r.labelSizes() == null
                            ? " = " + c + " completion tokens × top_k " + topK
                            : " = sum(label_sizes)"));
        }
        checkIds(r.promptIds(), "prompt_ids", where);
        checkIds(r.completionIds(), "completion_ids", where);
        checkIds(r.topkIds(), "topk_ids", where);
    }

    private void checkIds(int[] ids, String column, String where) {
        for (int id : ids) {
            if (id < 0 || id >= vocabSize) {
                throw new IllegalArgumentException(where + column + " holds token id " + id + ", outside the " + role
                        + "'s vocabulary [0, " + vocabSize + ")");
            }
        }
    }
}
