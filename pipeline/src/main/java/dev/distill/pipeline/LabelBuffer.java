package dev.distill.pipeline;

import java.util.Arrays;

/** One row's growing label entries (variable per position), draw counts and per-position fidelity. */
final class LabelBuffer implements LabelCapture.LabelSink {
    private int[] ids = new int[256];
    private float[] logprobs = new float[256];
    private int[] counts = new int[256];
    private int entries;
    private int[] sizes = new int[64];
    private float[] fidelity = new float[64 * 3];
    private int positions;
    private boolean counted;

    @Override
    public void add(
            int[] entryIds, float[] entryLogprobs, int[] entryCounts, double covered, double entropy, double kl) {
        int s = entryIds.length;
        while (entries + s > ids.length) {
            ids = Arrays.copyOf(ids, ids.length * 2);
            logprobs = Arrays.copyOf(logprobs, ids.length);
            counts = Arrays.copyOf(counts, ids.length);
        }
        System.arraycopy(entryIds, 0, ids, entries, s);
        System.arraycopy(entryLogprobs, 0, logprobs, entries, s);
        if (entryCounts != null) {
            System.arraycopy(entryCounts, 0, counts, entries, s);
            counted = true;
        }
        entries += s;
        if (positions == sizes.length) {
            sizes = Arrays.copyOf(sizes, positions * 2);
            fidelity = Arrays.copyOf(fidelity, positions * 2 * 3);
        }
        sizes[positions] = s;
        fidelity[positions * 3] = (float) covered;
        fidelity[positions * 3 + 1] = (float) entropy;
        fidelity[positions * 3 + 2] = (float) kl;
        positions++;
    }

    int[] ids() {
        return Arrays.copyOf(ids, entries);
    }

    float[] logprobs() {
        return Arrays.copyOf(logprobs, entries);
    }

    /** Draw counts, or null when no position had any (the top kinds). */
    int[] counts() {
        return counted ? Arrays.copyOf(counts, entries) : null;
    }

    int[] sizes() {
        return Arrays.copyOf(sizes, positions);
    }

    /** [positions × 3]: covered mass, entropy, KL per position. */
    float[] fidelity() {
        return Arrays.copyOf(fidelity, positions * 3);
    }
}
