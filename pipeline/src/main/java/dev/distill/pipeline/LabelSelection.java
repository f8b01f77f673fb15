package dev.distill.pipeline;

import dev.distill.data.LogitsSpec;
import dev.distill.data.SampledTargets;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The host-side half of capturing soft labels at one position (pure Java, exact in double precision): the top-p
 * cut of a sorted top list, the seeded uniforms of {@code sample:N[:T]}'s draws and the counting of the drawn ids, and
 * the fidelity of what is kept (covered mass, KL from the full distribution to the reconstruction). See docs/shard-format.md.
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

    /**
     * The {@code n} uniforms in [0, 1) of a position's draws ({@link dev.distill.model.CategoricalDraws} turns them
     * into ids on the device), written to {@code out[from, from + n)}: a pure function of (row seed, position).
     */
    public static void uniforms(long rowSeed, int position, int n, double[] out, int from) {
        SplittableRandom random = new SplittableRandom(WorkItem.mix(WorkItem.mix(rowSeed ^ SAMPLE_SALT) + position));
        for (int i = 0; i < n; i++) {
            out[from + i] = random.nextDouble();
        }
    }

    /** Distinct ids drawn, ascending, and how often each was drawn. */
    public record Draws(int[] ids, int[] counts) {
        /** Counts the ascending drawn ids {@code sorted[from, from + n)}. */
        public static Draws count(long[] sorted, int from, int n) {
            int[] ids = new int[n];
            int[] counts = new int[n];
            int distinct = 0;
            for (int i = from; i < from + n; i++) {
                int v = (int) sorted[i];
                if (distinct > 0 && ids[distinct - 1] == v) {
                    counts[distinct - 1]++;
                } else {
                    ids[distinct] = v;
                    counts[distinct++] = 1;
                }
            }
            return new Draws(Arrays.copyOf(ids, distinct), Arrays.copyOf(counts, distinct));
        }
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
