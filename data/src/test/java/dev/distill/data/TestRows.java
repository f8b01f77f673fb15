package dev.distill.data;

import java.util.Arrays;
import java.util.SplittableRandom;

/** Deterministic synthetic soft-label rows for tests: the same (prompt, sample) always gives the same row. */
public final class TestRows {
    public static final int K = 5;
    public static final int VOCAB = 1000;

    private TestRows() {}

    public static ShardMetadata metadata(String configHash) {
        return ShardMetadata.of(
                K, VOCAB, configHash, "tiny-teacher", "t".repeat(64), "a".repeat(64), "none", "c".repeat(64));
    }

    /** {@code row} as a version-2 reader returns it: every position holds {@code topK} entries, top-k rows have no counts. */
    public static SoftLabelRow asReadV2(SoftLabelRow row, int topK) {
        int[] sizes = new int[row.completionIds().length];
        Arrays.fill(sizes, topK);
        return row.withLabels(sizes, null);
    }

    /** A row with 1..40 completion tokens whose top-k rows are valid sorted log-probabilities. */
    public static SoftLabelRow row(long prompt, int sample) {
        SplittableRandom r = new SplittableRandom(prompt * 1_000_003L + sample);
        int[] promptIds = r.ints(1 + r.nextInt(30), 0, VOCAB).toArray();
        int n = 1 + r.nextInt(40);
        int[] completion = new int[n];
        float[] logprobs = new float[n];
        int[] topkIds = new int[n * K];
        float[] topkLogprobs = new float[n * K];
        for (int t = 0; t < n; t++) {
            double[] p = r.doubles(K, 0.001, 1.0).toArray();
            Arrays.sort(p);
            double scale = r.nextDouble(0.5, 0.999) / Arrays.stream(p).sum();
            for (int j = 0; j < K; j++) {
                topkIds[t * K + j] = (int) ((prompt * 7 + t * 13 + j * 101) % VOCAB);
                topkLogprobs[t * K + j] = (float) Math.log(p[K - 1 - j] * scale);
            }
            int pick = r.nextInt(K);
            completion[t] = topkIds[t * K + pick];
            logprobs[t] = topkLogprobs[t * K + pick];
        }
        String finish = r.nextInt(4) == 0 ? SoftLabelRow.LENGTH : SoftLabelRow.STOP;
        return SoftLabelRow.of(prompt, sample, promptIds, completion, logprobs, topkIds, topkLogprobs, finish);
    }

    /** Token id i spells "w<i> " in the tests' text columns. */
    public static byte[] tokenBytes(int id) {
        return ("w" + id + " ").getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    /** The row with its text columns: completion_text spelled by {@link #tokenBytes}, one span per token. */
    public static SoftLabelRow withText(SoftLabelRow r) {
        int[] ids = r.completionIds();
        int[] ends = new int[ids.length];
        java.io.ByteArrayOutputStream text = new java.io.ByteArrayOutputStream();
        for (int t = 0; t < ids.length; t++) {
            text.writeBytes(tokenBytes(ids[t]));
            ends[t] = text.size();
        }
        return r.withText(new TextSpans("prompt " + r.promptIndex(), text.toByteArray(), ends));
    }
}
