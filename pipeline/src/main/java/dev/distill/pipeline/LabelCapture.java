package dev.distill.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import dev.distill.data.LogitsSpec;
import dev.distill.model.CategoricalDraws;

/**
 * The device half of capturing soft labels for one decode step or scoring chunk of C positions: what {@code --logits}
 * needs of the teacher's log-softmax copied to the host in two copies, with the chosen (or scored) token's
 * log-probability and the teacher's entropy at each position; {@link Step#record} then selects the entries
 * ({@link LabelSelection}) and measures their fidelity.
 *
 * <p>The fidelity measure adds three ops per step (exp, mul, sum: the entropy). Copies to the host per step: one float
 * array {@code [C, w+2]} and one int64 array {@code [C, w+1]}, w = k or KMAX for the top kinds, w = N for {@code
 * sample:N} (the N ids drawn on the device by {@link CategoricalDraws} and their log-probs); {@code sample} also sends
 * its {@code [C, N]} float64 uniforms up.
 */
final class LabelCapture {
    private final LogitsSpec spec;
    private final int vocab;
    private final int width;
    private final CategoricalDraws draws;

    /** @param draws the device sampler, for {@code sample:N[:T]} (null for the top kinds) */
    LabelCapture(LogitsSpec spec, int vocab, CategoricalDraws draws) {
        if (spec.sampled() && draws == null) {
            throw new IllegalArgumentException("--logits " + spec + " needs the device sampler");
        }
        this.spec = spec;
        this.vocab = vocab;
        this.width = spec.sampled() ? spec.size() : Math.min(spec.size(), vocab);
        this.draws = draws;
    }

    /**
     * Copies what this step needs to the host.
     *
     * @param logits [C, V] float32 logits (for the proposal at T != 1)
     * @param logp [C, V] float32 log-softmax at T = 1
     * @param chosen [C, 1] int64: the token each position's completion takes
     * @param rowSeeds each position's row seed; with {@code positions} it seeds the draws of {@code sample}
     * @param positions each position's index in its completion (0-based)
     * @param from where this step's positions start in {@code rowSeeds} and {@code positions}
     */
    Step capture(NDArray logits, NDArray logp, NDArray chosen, long[] rowSeeds, int[] positions, int from) {
        NDArray p = logp.exp(); // [C, V]
        NDArray chosenLogp = logp.gather(chosen, 1); // [C, 1]
        NDArray entryLogp; // [C, w]
        NDArray entryIds; // [C, w]
        if (!spec.sampled()) {
            NDList top = logp.topK(width, 1, true, true);
            entryLogp = top.get(0);
            entryIds = top.get(1);
        } else {
            int c = (int) logits.getShape().get(0);
            double[] u = new double[c * width];
            for (int i = 0; i < c; i++) {
                LabelSelection.uniforms(rowSeeds[from + i], positions[from + i], width, u, i * width);
            }
            NDArray proposal = spec.temperature() == 1.0
                    ? p
                    : logits.div((float) spec.temperature()).softmax(1); // [C, V]
            entryIds = draws.draw(proposal, logits.getManager().create(u, new Shape(c, width))); // [C, N] ascending
            entryLogp = logp.gather(entryIds, 1); // [C, N]
        }
        // [C, 1]: -entropy (negated on the host); p log p in place (p is not read after this): no second [C, V] array
        NDArray plogp = p.muli(logp).sum(new int[] {1}, true);
        float[] values =
                NDArrays.concat(new NDList(entryLogp, chosenLogp, plogp), 1).toFloatArray(); // [C, w + 2]
        long[] ids = entryIds.concat(chosen, 1).toLongArray(); // [C, w + 1]
        return new Step(values, ids);
    }

    /** One step's host copies. */
    final class Step {
        private final float[] values;
        private final long[] ids;

        private Step(float[] values, long[] ids) {
            this.values = values;
            this.ids = ids;
        }

        /** The token position {@code i} takes. */
        int token(int i) {
            return (int) ids[i * (width + 1) + width];
        }

        /** Its log-probability at T = 1. */
        float tokenLogprob(int i) {
            return values[i * (width + 2) + width];
        }

        private double entropy(int i) {
            return -values[i * (width + 2) + width + 1];
        }

        /** Selects position {@code i}'s entries into {@code out}. */
        void record(int i, LabelSink out) {
            int from = i * (width + 2);
            if (!spec.sampled()) {
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
            LabelSelection.Draws d = LabelSelection.Draws.count(ids, i * (width + 1), width);
            float[] lp = new float[d.ids().length];
            for (int j = 0, k = 0; j < lp.length; k += d.counts()[j++]) {
                lp[j] = values[from + k]; // the log-prob of the first draw of each distinct id
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
