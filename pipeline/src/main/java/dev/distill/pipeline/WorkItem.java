package dev.distill.pipeline;

/**
 * One teacher job: a prompt (already templated and tokenized) and, in score mode, the response to
 * score; one per (prompt, sample). {@code rowSeed} seeds this row's sampling alone, so a row's
 * tokens never depend on which batch it lands in.
 */
public record WorkItem(
        long promptIndex, int sampleIndex, int[] promptIds, int[] responseIds, int maxNewTokens, long rowSeed) {

    /** Tokens this item occupies in a batch: prompt plus everything it may generate or score. */
    public int tokenSpan() {
        return promptIds.length + (responseIds != null ? responseIds.length : maxNewTokens);
    }

    /** The seed of sample {@code sampleIndex} of prompt {@code promptIndex} in a run seeded {@code seed}. */
    public static long rowSeed(long seed, long promptIndex, int sampleIndex) {
        long h = mix(seed + 0x9E3779B97F4A7C15L);
        h = mix(h + promptIndex);
        return mix(h + sampleIndex);
    }

    /** SplitMix64's finaliser: a bijective 64-bit mix. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
