package dev.distill.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import dev.distill.data.LogitsSpec;

/**
 * The device half of capturing soft labels for one decode step or scoring chunk of C positions: what {@code --logits}
 * needs of the teacher's log-softmax copied to the host in as few copies as possible, with the chosen (or scored)
 * token's log-probability and the teacher's entropy at each position; {@link Step#record} then selects the entries
 * ({@link LabelSelection}) and measures their fidelity.
 *
 * <p>The fidelity measure adds three ops per step (exp, mul, sum: the entropy). Copies per step: top-k and top-p: one
 * float and one int64 array ({@code [C, w+2]}, {@code [C, w+1]}, w = k or
 * KMAX); sample: the full probabilities {@code [C, V]} (and at T != 1 the proposal's), plus the chosen token.
 */
final class LabelCapture {
    private final LogitsSpec spec;
    private final int vocab;
    private final int width;

    LabelCapture(LogitsSpec spec, int vocab) {
        this.spec = spec;
        this.vocab = vocab;
        this.width = spec.sampled() ? 0 : Math.min(spec.size(), vocab);
    }

    /**
     * Copies what this step needs to the host.
     *
     * @param logits [C, V] float32 logits (for the proposal at T != 1)
     * @param logp [C, V] float32 log-softmax at T = 1
     * @param chosen [C, 1] int64: the token each position's completion takes
     */
    Step capture(NDArray logits, NDArray logp, NDArray chosen) {
        NDArray plogp = logp.exp().mul(logp).sum(new int[] {1}, true); // [C, 1]: -entropy (negated on the host)
        NDArray chosenLogp = logp.gather(chosen, 1); // [C, 1]
        if (!spec.sampled()) {
            NDList top = logp.topK(width, 1, true, true); // values [C, w], indices [C, w]
            float[] values = NDArrays.concat(new NDList(top.get(0), chosenLogp, plogp), 1)
                    .toFloatArray(); // [C, w + 2]
            long[] ids = top.get(1).concat(chosen, 1).toLongArray(); // [C, w + 1]
            return new Step(values, ids, null, null);
        }
        float[] values = chosenLogp.concat(plogp, 1).toFloatArray(); // [C, 2]
        long[] ids = chosen.toLongArray(); // [C]
        float[] probs = logp.exp().toFloatArray(); // [C, V]
        float[] proposal = spec.temperature() == 1.0
                ? probs
                : logits.div((float) spec.temperature()).softmax(1).toFloatArray(); // [C, V]
        return new Step(values, ids, probs, proposal);
    }

    /** One step's host copies. */
    final class Step {
        private final float[] values;
        private final long[] ids;
        private final float[] probs;
        private final float[] proposal;

        private Step(float[] values, long[] ids, float[] probs, float[] proposal) {
            this.values = values;
            this.ids = ids;
            this.probs = probs;
            this.proposal = proposal;
        }

        /** The token position {@code i} takes. */
        int token(int i) {
            return (int) (spec.sampled() ? ids[i] : ids[i * (width + 1) + width]);
        }

        /** Its log-probability at T = 1. */
        float tokenLogprob(int i) {
            return spec.sampled() ? values[i * 2] : values[i * (width + 2) + width];
        }

        private double entropy(int i) {
            return -(spec.sampled() ? values[i * 2 + 1] : values[i * (width + 2) + width + 1]);
        }

        /**
         * Selects position {@code i}'s entries into {@code out}.
         *
         * @param rowSeed the row's seed; with {@code position} it seeds the draws of {@code sample}
         * @param position the completion position (0-based)
         */
        void record(int i, long rowSeed, int position, LabelSink out) {
            if (!spec.sampled()) {
                int from = i * (width + 2);
                int size = spec.kind() == LogitsSpec.Kind.TOP_P
                        ? LabelSelection.topP(values, from, width, spec.mass())
                        : width;
                int[] entryIds = new int[size];
                for (int j = 0; j < size; j++) {
                    entryIds[j] = (int) ids[i * (width + 1) + j];
                }
                float[] lp = java.util.Arrays.copyOfRange(values, from, from + size);
                double[] f = LabelSelection.fidelity(spec, lp, null, 0, size, vocab, entropy(i));
                out.add(entryIds, lp, null, f[0], entropy(i), f[1]);
                return;
            }
            LabelSelection.Draws d = LabelSelection.sample(
                    proposal, i * vocab, vocab, spec.size(), LabelSelection.drawRandom(rowSeed, position));
            float[] lp = new float[d.ids().length];
            for (int j = 0; j < lp.length; j++) {
                lp[j] = (float) Math.log(probs[i * vocab + d.ids()[j]]);
            }
            double[] f = LabelSelection.fidelity(spec, lp, d.counts(), 0, lp.length, vocab, entropy(i));
            out.add(d.ids(), lp, d.counts(), f[0], entropy(i), f[1]);
        }
    }

    /** Receives one position's entries and fidelity. */
    interface LabelSink {
        void add(int[] ids, float[] logprobs, int[] counts, double covered, double entropy, double kl);
    }
}
