package dev.distill.data;

/**
 * The rules a version-2 row's label entries follow (docs/shard-format.md), shared by {@link ShardWriter} (structure)
 * and {@code distill validate} (structure and contents).
 */
public final class LabelLayout {
    /** Tolerance for float32 rounding: log-probabilities may exceed 0, and a position's mass 1, by this much. */
    public static final double EPSILON = 1e-4;

    private LabelLayout() {}

    /**
     * The first violation of {@code row}, or null.
     *
     * @param contents also check ids, log-probabilities, order, distinctness and top-p minimality
     * @param massLimit the largest mass a position may hold: 1 + {@link #EPSILON}, more for decoded compact rows
     *     ({@link RowChecker#decodedWithStep})
     */
    public static String check(SoftLabelRow row, ShardMetadata meta, boolean contents, double massLimit) {
        int n = row.completionIds().length;
        int[] sizes = row.labelSizes();
        if (sizes == null || sizes.length != n) {
            return "label_sizes has " + (sizes == null ? 0 : sizes.length) + " values, completion_ids has " + n;
        }
        LogitsSpec spec = meta.logits();
        if (spec.kind() == LogitsSpec.Kind.TOP_K) {
            long expected = (long) n * meta.topK();
            if (row.topkIds().length != expected) {
                return "topk_ids has " + row.topkIds().length + " values, expected " + n + " positions × top_k "
                        + meta.topK() + " = " + expected;
            }
            if (row.topkLogprobs().length != expected) {
                return "topk_logprobs has " + row.topkLogprobs().length + " values, expected " + n
                        + " positions × top_k " + meta.topK() + " = " + expected;
            }
        }
        long total = 0;
        for (int t = 0; t < n; t++) {
            int s = sizes[t];
            if (s < 1 || s > meta.topK()) {
                return "label_sizes[" + t + "] = " + s + " is not in [1, top_k " + meta.topK() + "]";
            }
            if (spec.kind() == LogitsSpec.Kind.TOP_K && s != meta.topK()) {
                return "label_sizes[" + t + "] = " + s + ", but " + spec + " stores " + meta.topK()
                        + " entries per position";
            }
            total += s;
        }
        if (row.topkIds().length != total || row.topkLogprobs().length != total) {
            return "topk_ids/topk_logprobs hold " + row.topkIds().length + "/" + row.topkLogprobs().length
                    + " values, expected sum(label_sizes) = " + total;
        }
        int[] counts = row.labelCounts() == null ? new int[0] : row.labelCounts();
        if (spec.sampled() ? counts.length != total : counts.length != 0) {
            return "label_counts has " + counts.length + " values, expected " + (spec.sampled() ? total : 0) + " for "
                    + spec;
        }
        if (spec.sampled()) {
            int at = 0;
            for (int t = 0; t < n; t++) {
                long draws = 0;
                for (int j = 0; j < sizes[t]; j++, at++) {
                    if (counts[at] < 1) {
                        return "label_counts: position " + t + " has a count " + counts[at] + " < 1";
                    }
                    draws += counts[at];
                }
                if (draws != spec.size()) {
                    return "label_counts: position " + t + " sums to " + draws + " draws, expected " + spec.size();
                }
            }
        }
        return contents ? checkContents(row, meta, massLimit) : null;
    }

    /**
     * The violation of position {@code t} holding {@code mass} over {@code massLimit} (1 + {@link #EPSILON}, or a
     * compact shard's exp(step / 2) allowance times it), or null; shared with {@link RowChecker}'s top-k rows.
     */
    static String massProblem(int t, double mass, double massLimit) {
        if (mass <= massLimit) {
            return null;
        }
        return "topk_logprobs: position " + t + " has probability mass " + mass + " > "
                + (massLimit > 1 + EPSILON ? "exp(step / 2) = " + (massLimit / (1 + EPSILON)) : "1");
    }

    private static String checkContents(SoftLabelRow row, ShardMetadata meta, double massLimit) {
        LogitsSpec spec = meta.logits();
        // rows as written: plain order (top kinds descending, sample by id); a compact shard reads back in id order
        boolean compact = meta.encoding() == LabelEncoding.COMPACT;
        boolean idOrder = spec.sampled();
        int[] sizes = row.labelSizes();
        int[] ids = row.topkIds();
        float[] lp = row.topkLogprobs();
        int at = 0;
        for (int t = 0; t < sizes.length; t++) {
            double mass = 0;
            double before = 0;
            for (int j = 0; j < sizes[t]; j++) {
                int i = at + j;
                if (ids[i] < 0 || ids[i] >= meta.vocabSize()) {
                    return "topk_ids[" + i + "] = " + ids[i] + " is not in [0, vocab_size " + meta.vocabSize() + ")";
                }
                if (!(lp[i] <= EPSILON) || lp[i] == Float.NEGATIVE_INFINITY) {
                    return "topk_logprobs[" + i + "] = " + lp[i] + " is not a finite log-probability (<= 0)";
                }
                if (j > 0 && idOrder && !compact && ids[i] <= ids[i - 1]) {
                    return "topk_ids: position " + t + " is not strictly ascending (" + ids[i - 1] + " then " + ids[i]
                            + ")";
                }
                if (j > 0 && !idOrder && !compact && lp[i] > lp[i - 1]) {
                    return "topk_logprobs: position " + t + " is not sorted descending (" + lp[i - 1] + " then " + lp[i]
                            + ")";
                }
                if (j > 0 && (!idOrder || compact)) {
                    for (int k = at; k < i; k++) {
                        if (ids[k] == ids[i]) {
                            return "topk_ids: position " + t + " holds id " + ids[i] + " twice";
                        }
                    }
                }
                before = mass;
                mass += Math.exp(lp[i]);
            }
            String tooMuch = massProblem(t, mass, massLimit);
            if (tooMuch != null) {
                return tooMuch;
            }
            if (spec.kind() == LogitsSpec.Kind.TOP_P && meta.encoding() == LabelEncoding.PLAIN) {
                if (sizes[t] > 1 && before >= spec.mass()) {
                    return "top-p: position " + t + " is not minimal: its first " + (sizes[t] - 1)
                            + " entries already hold " + before + " >= " + spec.mass();
                }
                if (sizes[t] < spec.size() && sizes[t] < meta.vocabSize() && mass < spec.mass() - EPSILON) {
                    return "top-p: position " + t + " holds " + sizes[t] + " < KMAX entries with mass " + mass + " < "
                            + spec.mass();
                }
            }
            at += sizes[t];
        }
        return null;
    }
}
