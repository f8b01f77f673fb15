package dev.distill.data;

import java.util.function.Consumer;

/**
 * The per-row invariants of the shard format, in one place: {@code distill validate} reports what they find, and
 * {@link ShardWriter} refuses a row that breaks one, so no shard is committed that validate would reject. Rows are
 * checked in file order; each violation goes to the sink as one message naming the file, row, sample, field,
 * position and value.
 */
public final class RowChecker {
    /** Tolerance for float32 rounding: log-probabilities may exceed 0, and top-k mass 1, by this much. */
    public static final double EPSILON = LabelLayout.EPSILON;

    private final String file;
    private final ShardMetadata meta;
    private final int topK;
    private final int vocabSize;
    private final long promptStart;
    private final long promptEnd;
    private final Consumer<String> out;
    private final TeacherVocab vocab;
    private double massLimit = 1 + EPSILON;
    private long lastPrompt = -1;
    private int lastSample = -1;
    private long completionTokens;

    /** A checker of the rows of {@code file} (a name for messages), each violation sent to {@code out}. */
    public RowChecker(String file, ShardMetadata meta, long promptStart, long promptEnd, Consumer<String> out) {
        this(file, meta, promptStart, promptEnd, out, null);
    }

    /**
     * As above, also checking the optional text columns' spans against each token's bytes in {@code vocab} (the run's
     * teacher_vocab.json; null: coverage only).
     */
    public RowChecker(
            String file,
            ShardMetadata meta,
            long promptStart,
            long promptEnd,
            Consumer<String> out,
            TeacherVocab vocab) {
        this.vocab = vocab;
        this.file = file;
        this.meta = meta;
        this.topK = meta.topK();
        this.vocabSize = meta.vocabSize();
        this.promptStart = promptStart;
        this.promptEnd = promptEnd;
        this.out = out;
    }

    /**
     * Checks rows as a compact shard with quantisation {@code step} decodes them: each log-prob but the position's
     * maximum may be up to {@code step / 2} above its plain value, so a position's decoded mass may reach
     * {@code exp(step / 2)} (1.032 at 1/16 nat) where the plain mass is 1. NaN (a plain shard) keeps the limit of 1.
     */
    public RowChecker decodedWithStep(double step) {
        massLimit = Double.isNaN(step) ? 1 + EPSILON : Math.exp(step / 2) * (1 + EPSILON);
        return this;
    }

    /** Completion tokens of the rows checked so far. */
    public long completionTokens() {
        return completionTokens;
    }

    /** Checks row number {@code rowNumber} (0-based in the file). */
    public void check(long rowNumber, SoftLabelRow row) {
        String where = file + " row " + rowNumber + " (sample " + row.sampleId() + "): ";
        long p = row.promptIndex();
        int s = row.sampleIndex();
        for (Object array : new Object[] {
            row.promptIds(),
            row.completionIds(),
            row.completionLogprobs(),
            row.topkIds(),
            row.topkLogprobs(),
            row.finishReason()
        }) {
            if (array == null) {
                out.accept(where + "a column is null");
                return;
            }
        }
        if (!SoftLabelRow.sampleId(p, s).equals(row.sampleId())) {
            out.accept(where + "sample_id is not \"<prompt_index>-<sample_index>\" = \"" + SoftLabelRow.sampleId(p, s)
                    + "\"");
        }
        if (s < 0) {
            out.accept(where + "sample_index " + s + " is negative");
        }
        if (p < promptStart || p >= promptEnd) {
            out.accept(where + "prompt_index " + p + " is outside the shard's prompts [" + promptStart + ", "
                    + promptEnd + ")");
        }
        if (p < lastPrompt || (p == lastPrompt && s <= lastSample)) {
            out.accept(where + "rows are not ordered by (prompt_index, sample_index): follows "
                    + SoftLabelRow.sampleId(lastPrompt, lastSample));
        }
        if (!SoftLabelRow.FINISH_REASONS.contains(row.finishReason())) {
            out.accept(where + "finish_reason \"" + row.finishReason() + "\" is not one of stop, length, scored");
        }
        ids(where, "prompt_ids", row.promptIds(), 0);
        ids(where, "completion_ids", row.completionIds(), 0);
        int n = row.completionIds().length;
        if (row.completionLogprobs().length != n) {
            out.accept(where + "completion_logprobs has " + row.completionLogprobs().length
                    + " values, completion_ids has " + n);
        } else {
            logprobs(where, "completion_logprobs", row.completionLogprobs(), 0);
        }
        if (meta.schemaVersion() >= 2) {
            // top-k: the layout's structure, then the fixed-width checks below; other kinds: all of LabelLayout's rules
            boolean fixedWidth = meta.logits().kind() == LogitsSpec.Kind.TOP_K;
            String problem = LabelLayout.check(
                    row, meta, !fixedWidth, massLimit); // sizes, counts, ids, log-probs, order, top-p minimality
            if (problem != null || !fixedWidth) {
                if (problem != null) {
                    out.accept(where + problem);
                } else if (row.text() != null) {
                    spans(where, row);
                }
                lastPrompt = p;
                lastSample = s;
                completionTokens += n;
                return;
            }
        } else if (row.labelSizes() != null || (row.labelCounts() != null && row.labelCounts().length > 0)) {
            out.accept(where + "a version-1 shard holds no label_sizes or label_counts");
        }
        long expected = (long) n * topK;
        boolean idsOk = lengthOk(where, "topk_ids", row.topkIds().length, n, expected);
        boolean logprobsOk = lengthOk(where, "topk_logprobs", row.topkLogprobs().length, n, expected);
        if (idsOk) {
            ids(where, "topk_ids", row.topkIds(), topK);
        }
        if (logprobsOk && logprobs(where, "topk_logprobs", row.topkLogprobs(), topK)) {
            topkRows(where, row.topkLogprobs());
        }
        if (row.text() != null) {
            spans(where, row);
        }
        lastPrompt = p;
        lastSample = s;
        completionTokens += n;
    }

    /** The spans cover completion_text exactly and, with the vocabulary file, each span holds its token's bytes. */
    private void spans(String where, SoftLabelRow row) {
        TextSpans text = row.text();
        int n = row.completionIds().length;
        String error = text.coverageError(n);
        if (error != null) {
            out.accept(where + error);
            return;
        }
        if (vocab == null) {
            return;
        }
        byte[] bytes = text.completionText();
        for (int t = 0; t < n; t++) {
            int id = row.completionIds()[t];
            boolean stop = t == n - 1 && SoftLabelRow.STOP.equals(row.finishReason()) && vocab.isStop(id);
            byte[] token = vocab.isSpecial(id) || stop ? new byte[0] : vocab.bytes(id);
            int start = text.start(t);
            int end = text.byteEnds()[t];
            if (!java.util.Arrays.equals(bytes, start, end, token, 0, token.length)) {
                out.accept(where + "completion_text[" + start + ", " + end
                        + ") does not hold the bytes of completion token " + t + " (id " + id + ", " + token.length
                        + " bytes in " + TeacherVocab.FILE + ")");
                return;
            }
        }
    }

    private boolean lengthOk(String where, String column, int length, int n, long expected) {
        if (length != expected) {
            out.accept(where + column + " has " + length + " values, expected " + n + " positions × top_k " + topK
                    + " = " + expected);
            return false;
        }
        return true;
    }

    /** " (position t, rank j)" of flat index i of a [positions x k] column; "" for a column of one value a position. */
    private static String position(int i, int k) {
        return k == 0 ? "" : " (position " + i / k + ", rank " + i % k + ")";
    }

    private void ids(String where, String column, int[] ids, int k) {
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocabSize) {
                out.accept(where + column + "[" + i + "]" + position(i, k) + " = " + ids[i]
                        + " is not in [0, vocab_size " + vocabSize + ")");
                return;
            }
        }
    }

    /** Reports the first log-probability that is NaN, infinite or above 0 (+ epsilon); true when all are fine. */
    private boolean logprobs(String where, String column, float[] values, int k) {
        for (int i = 0; i < values.length; i++) {
            if (!(values[i] <= EPSILON) || values[i] == Float.NEGATIVE_INFINITY) {
                out.accept(where + column + "[" + i + "]" + position(i, k) + " = " + values[i]
                        + " is not a finite log-probability (<= 0)");
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
                // a compact shard decodes each position in id order
                if (j > 0 && v > logprobs[t * topK + j - 1] && meta.encoding() == LabelEncoding.PLAIN) {
                    out.accept(where + "topk_logprobs: position " + t + " is not sorted descending ("
                            + logprobs[t * topK + j - 1] + " then " + v + ")");
                    return;
                }
                mass += Math.exp(v);
            }
            String tooMuch = LabelLayout.massProblem(t, mass, massLimit);
            if (tooMuch != null) {
                out.accept(where + tooMuch);
                return;
            }
        }
    }
}
