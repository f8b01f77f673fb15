package dev.distill.pipeline;

import dev.distill.data.LogitsSpec;
import dev.distill.data.SampledTargets;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The host-side half of capturing soft labels at one position (pure Java, exact in double precision): the top-p
 * cut of a sorted top list, the N seeded draws of {@code sample:N[:T]} from a full distribution, and the fidelity of
 * what is kept (covered mass, KL from the full distribution to the reconstruction). See docs/shard-format.md.
 */
public final class LabelSelection {
    /** Salt separating the label draws from the token choice, which is seeded from the same (row seed, step). */
    private static final long SAMPLE_SALT = 0x5DEECE66DL;

    private LabelSelection() {}

    /**
     * How many of a position's highest log-probabilities (sorted descending) {@code top-p:P} keeps: the smallest
     * prefix whose mass reaches P, at least 1, at most {@code sorted} entries (KMAX).
     */
    public static int topP(float[] sorted, int from, int width, double p) {
        double mass = 0;
        for (int j = 0; j < width; j++) {
            mass += Math.exp(sorted[from + j]);
            if (mass >= p) {
                return j + 1;
            }
        }
        return width;
    }

    /** The seeded source of a position's draws: a pure function of (row seed, position). */
    public static SplittableRandom drawRandom(long rowSeed, int position) {
        return new SplittableRandom(WorkItem.mix(WorkItem.mix(rowSeed ^ SAMPLE_SALT) + position));
    }

    /** Distinct ids drawn, ascending, and how often each was drawn. */
    public record Draws(int[] ids, int[] counts) {}

    /**
     * {@code n} draws with replacement from the distribution {@code probs[from, from + vocab)} (normalised up to
     * float rounding, which the draw corrects by scaling the uniforms to the total), by inverse CDF over sorted
     * uniforms: one pass over the vocabulary.
     */
    public static Draws sample(float[] probs, int from, int vocab, int n, SplittableRandom random) {
        double total = 0;
        for (int v = 0; v < vocab; v++) {
            total += probs[from + v];
        }
        double[] u = new double[n];
        for (int i = 0; i < n; i++) {
            u[i] = random.nextDouble() * total;
        }
        Arrays.sort(u);
        int[] ids = new int[n];
        int[] counts = new int[n];
        int distinct = 0;
        int v = 0;
        double cdf = probs[from]; // mass of ids 0..v, summed in the same order as the total
        for (double x : u) {
            while (v < vocab - 1 && cdf <= x) { // the first id whose cumulative mass exceeds x (so its mass is > 0)
                v++;
                cdf += probs[from + v];
            }
            if (distinct > 0 && ids[distinct - 1] == v) {
                counts[distinct - 1]++;
            } else {
                ids[distinct] = v;
                counts[distinct++] = 1;
            }
        }
        return new Draws(Arrays.copyOf(ids, distinct), Arrays.copyOf(counts, distinct));
    }

    /**
     * The fidelity of one position: {covered mass, KL(p || r)} where p is the teacher's full distribution and r the
     * reconstruction: the stored entries at {@code covered * SampledTargets.weights} (for the top kinds, exactly the
     * teacher's probabilities), the uncovered mass spread uniformly over the other {@code vocab - size} ids (the
     * tail bucket of {@code --tail bucket}). Uses {@code entropy} = H(p) for the part of p outside the entries:
     * {@code sum_{j not stored} p_j log p_j = -H - sum_stored p_i log p_i}.
     */
    public static double[] fidelity(
            LogitsSpec spec, float[] logprobs, int[] counts, int from, int size, int vocab, double entropy) {
        double covered = 0;
        double storedPlogP = 0;
        for (int j = 0; j < size; j++) {
            double lp = logprobs[from + j];
            double p = Math.exp(lp);
            covered += p;
            storedPlogP += p * lp;
        }
        covered = Math.min(covered, 1);
        double kl = 0;
        if (spec.sampled()) {
            double[] w = SampledTargets.weights(spec, logprobs, counts, from, size);
            for (int j = 0; j < size; j++) {
                double lp = logprobs[from + j];
                kl += Math.exp(lp) * (lp - Math.log(covered * w[j]));
            }
        }
        double tail = 1 - covered;
        if (size < vocab && tail > 1e-12) {
            double outsidePlogP = Math.min(0, -entropy - storedPlogP);
            kl += outsidePlogP - tail * Math.log(tail / (vocab - size));
        }
        return new double[] {covered, Math.max(0, kl)};
    }
}
