package dev.distill.data.cli;

import dev.distill.data.SoftLabelRow;

/** Checks the per-row invariants of the shard format for the rows of one shard, in file order. */
final class RowChecker {
    /** Tolerance for float32 rounding: log-probabilities may exceed 0, and top-k mass 1, by this much. */
    static final double EPSILON = 1e-4;

    private final String file;
    private final int topK;
    private final int vocabSize;
    private final long promptStart;
    private final long promptEnd;
    private final Violations out;
    private long lastPrompt = -1;
    private int lastSample = -1;
    private long completionTokens;

    RowChecker(String file, int topK, int vocabSize, long promptStart, long promptEnd, Violations out) {
        this.file = file;
        this.topK = topK;
        this.vocabSize = vocabSize;
        this.promptStart = promptStart;
        this.promptEnd = promptEnd;
        this.out = out;
    }

    long completionTokens() {
        return completionTokens;
    }

    void check(long rowNumber, SoftLabelRow row) {
        String where = file + " row " + rowNumber + " (sample " + row.sampleId() + "): ";
        long p = row.promptIndex();
        int s = row.sampleIndex();
        completionTokens += row.completionIds().length;
        if (!SoftLabelRow.sampleId(p, s).equals(row.sampleId())) {
            out.add(where + "sample_id is not \"<prompt_index>-<sample_index>\" = \"" + SoftLabelRow.sampleId(p, s) + "\"");
        }
        if (s < 0) {
            out.add(where + "sample_index " + s + " is negative");
        }
        if (p < promptStart || p >= promptEnd) {
            out.add(where + "prompt_index " + p + " is outside the shard's prompts [" + promptStart + ", " + promptEnd + ")");
        }
        if (p < lastPrompt || (p == lastPrompt && s <= lastSample)) {
            out.add(where + "rows are not ordered by (prompt_index, sample_index): follows " + SoftLabelRow.sampleId(lastPrompt, lastSample));
        }
        lastPrompt = p;
        lastSample = s;
        if (!SoftLabelRow.FINISH_REASONS.contains(row.finishReason())) {
            out.add(where + "finish_reason \"" + row.finishReason() + "\" is not one of stop, length, scored");
        }
        ids(where, "prompt_ids", row.promptIds());
        ids(where, "completion_ids", row.completionIds());
        int n = row.completionIds().length;
        if (row.completionLogprobs().length != n) {
            out.add(where + "completion_logprobs has " + row.completionLogprobs().length + " values, completion_ids has " + n);
        } else {
            logprobs(where, "completion_logprobs", row.completionLogprobs());
        }
        long expected = (long) n * topK;
        boolean idsOk = lengthOk(where, "topk_ids", row.topkIds().length, n, expected);
        boolean logprobsOk = lengthOk(where, "topk_logprobs", row.topkLogprobs().length, n, expected);
        if (idsOk) {
            ids(where, "topk_ids", row.topkIds());
        }
        if (logprobsOk && logprobs(where, "topk_logprobs", row.topkLogprobs())) {
            topkRows(where, row.topkLogprobs());
        }
    }

    private boolean lengthOk(String where, String column, int length, int n, long expected) {
        if (length != expected) {
            out.add(where + column + " has " + length + " values, expected " + n + " positions × top_k " + topK + " = " + expected);
            return false;
        }
        return true;
    }

    private void ids(String where, String column, int[] ids) {
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocabSize) {
                out.add(where + column + "[" + i + "] = " + ids[i] + " is not in [0, vocab_size " + vocabSize + ")");
                return;
            }
        }
    }

    /** Reports the first log-probability that is NaN or above 0 (+ epsilon); true when all are fine. */
    private boolean logprobs(String where, String column, float[] values) {
        for (int i = 0; i < values.length; i++) {
            if (!(values[i] <= EPSILON)) {
                out.add(where + column + "[" + i + "] = " + values[i] + " is not a log-probability (<= 0)");
                return false;
            }
        }
        return true;
    }

    private void topkRows(String where, float[] logprobs) {
        for (int t = 0; t < logprobs.length / topK; t++) {
            double mass = 0;
            for (int j = 0; j < topK; j++) {
                float v = logprobs[t * topK + j];
                if (j > 0 && v > logprobs[t * topK + j - 1]) {
                    out.add(where + "topk_logprobs: position " + t + " is not sorted descending (" + logprobs[t * topK + j - 1]
                            + " then " + v + ")");
                    return;
                }
                mass += Math.exp(v);
            }
            if (mass > 1 + EPSILON) {
                out.add(where + "topk_logprobs: position " + t + " has probability mass " + mass + " > 1");
                return;
            }
        }
    }
}
