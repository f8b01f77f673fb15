package dev.distill.data;

/**
 * The target distribution over a position's stored entries that the trainer matches, in probabilities summing to 1.
 * For {@code sample:N:T}: the self-normalised importance weights {@code count * p / q}, where q is the proposal at
 * temperature T, {@code q ∝ p^(1/T)}, so {@code p / q ∝ p^(1 - 1/T)} and only the stored T=1 log-probabilities are
 * needed (at T = 1 the weights are {@code count / N}: an unbiased estimate of p). For the top kinds: the stored
 * probabilities renormalised.
 */
public final class SampledTargets {
    private SampledTargets() {}

    /** The weights of entries {@code [from, from + size)}. */
    public static double[] weights(LogitsSpec spec, float[] logprobs, int[] counts, int from, int size) {
        double[] w = new double[size];
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < size; j++) {
            double lp = logprobs[from + j];
            w[j] = spec.sampled()
                    ? Math.log(counts[from + j]) + (spec.temperature() == 1 ? 0 : lp * (1 - 1 / spec.temperature()))
                    : lp;
            max = Math.max(max, w[j]);
        }
        double sum = 0;
        for (int j = 0; j < size; j++) {
            w[j] = Math.exp(w[j] - max);
            sum += w[j];
        }
        for (int j = 0; j < size; j++) {
            w[j] /= sum;
        }
        return w;
    }
}
