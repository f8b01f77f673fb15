package dev.distill.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.apache.parquet.schema.MessageType;

/**
 * The compact encoding of a version-2 shard's label entries (see docs/shard-format.md): per position, the ids sorted
 * ascending and delta-coded (first id as is), the log-probabilities as integer codes {@code round((max - lp) / step)}
 * against the position's maximum {@code max} (stored once per position) with the step from the footer. Decoding
 * gives every position's entries in ascending id order, log-probabilities within {@code step / 2} of the plain ones.
 */
public final class CompactLabels {
    public static final String ID_DELTAS = "label_id_deltas";
    public static final String LOGPROB_CODES = "label_logprob_codes";
    public static final String LOGPROB_MAX = "label_logprob_max";
    /** Footer key of the quantisation step (nats). */
    public static final String KEY_LOGPROB_STEP = "distill.logprob_step";
    /**
     * The step this build writes: 1/16 nat, so every log-probability is within 1/32 nat of its plain value, and (as
     * each entry's log-ratio to plain lies in an interval of width {@code step}) KL(plain || decoded) of the
     * renormalised entries is at most {@code step^2 / 8} = 4.9e-4 nats at every position (Hoeffding's lemma). Builds
     * before 2026-12-06 wrote 1/64; readers take the step from the footer, so both decode.
     */
    public static final double LOGPROB_STEP = 1.0 / 16;
    /** Codes are capped here: log-probabilities more than 4096 nats below the position's maximum decode as that. */
    static final int MAX_CODE = (int) (4096 / LOGPROB_STEP);

    /** The compact schema: the plain v2 schema with topk_ids / topk_logprobs replaced by the three coded columns. */
    public static final MessageType SCHEMA = ShardSchema.message(ShardSchema.COMMON_FIELDS
            + ShardSchema.list(ShardSchema.LABEL_SIZES, "int32") + ShardSchema.list(ID_DELTAS, "int32")
            + ShardSchema.list(LOGPROB_CODES, "int32") + ShardSchema.list(LOGPROB_MAX, "float")
            + ShardSchema.list(ShardSchema.LABEL_COUNTS, "int32") + "required binary finish_reason (STRING);\n");

    private CompactLabels() {}

    /** The file columns that hold the logical {@code columns} of a compact shard. */
    static List<String> physicalColumns(List<String> columns) {
        Set<String> out = new LinkedHashSet<>();
        for (String c : columns) {
            switch (c) {
                case ShardSchema.TOPK_IDS -> {
                    out.add(ShardSchema.LABEL_SIZES);
                    out.add(ID_DELTAS);
                    out.add(LOGPROB_CODES); // decoding reorders both together
                    out.add(LOGPROB_MAX);
                }
                case ShardSchema.TOPK_LOGPROBS -> {
                    out.add(ShardSchema.LABEL_SIZES);
                    out.add(ID_DELTAS);
                    out.add(LOGPROB_CODES);
                    out.add(LOGPROB_MAX);
                }
                default -> out.add(c);
            }
        }
        return new ArrayList<>(out);
    }

    /** A row's entries in compact form. */
    record Encoded(int[] idDeltas, int[] codes, float[] maxima, int[] counts) {}

    /** Sorts each position's entries by id (counts follow) and codes them; {@code row.labelSizes()} must be set. */
    static Encoded encode(SoftLabelRow row, double step) {
        int[] sizes = row.labelSizes();
        int total = row.topkIds().length;
        int[] deltas = new int[total];
        int[] codes = new int[total];
        float[] maxima = new float[sizes.length];
        int[] counts = row.labelCounts() == null || row.labelCounts().length == 0 ? new int[0] : new int[total];
        Integer[] order = new Integer[0];
        int at = 0;
        for (int t = 0; t < sizes.length; t++) {
            int s = sizes[t];
            if (order.length < s) {
                order = new Integer[s];
            }
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < s; j++) {
                order[j] = at + j;
                max = Math.max(max, row.topkLogprobs()[at + j]);
            }
            maxima[t] = max;
            Arrays.sort(order, 0, s, (a, b) -> Integer.compare(row.topkIds()[a], row.topkIds()[b]));
            int previous = 0;
            for (int j = 0; j < s; j++) {
                int src = order[j];
                int id = row.topkIds()[src];
                deltas[at + j] = id - previous;
                previous = id;
                double gap = ((double) max - row.topkLogprobs()[src]) / step;
                codes[at + j] = gap >= MAX_CODE || Double.isNaN(gap) ? MAX_CODE : (int) Math.round(gap);
                if (counts.length > 0) {
                    counts[at + j] = row.labelCounts()[src];
                }
            }
            at += s;
        }
        return new Encoded(deltas, codes, maxima, counts);
    }

    /** Decodes ids and log-probabilities in place: {@code ids} holds the deltas, {@code codes} the codes. */
    static float[] decode(int[] sizes, int[] ids, int[] codes, float[] maxima, double step) {
        float[] logprobs = new float[codes.length];
        int at = 0;
        for (int t = 0; t < sizes.length; t++) {
            int previous = 0;
            for (int j = 0; j < sizes[t]; j++, at++) {
                previous += ids[at];
                ids[at] = previous;
                logprobs[at] = (float) (maxima[t] - codes[at] * step);
            }
        }
        return logprobs;
    }
}
