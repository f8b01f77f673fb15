package dev.distill.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.distill.data.LogitsSpec;
import dev.distill.model.CategoricalDraws;
import dev.distill.model.DecodeHead;

/**
 * The device half of capturing soft labels for one decode step or scoring chunk of C positions: what {@code --logits}
 * needs of the teacher's log-softmax copied to the host in two copies, with the chosen (or scored) token's
 * log-probability and the teacher's entropy at each position; {@link Step#record} then selects the entries
 * ({@link LabelSelection}) and measures their fidelity.
 *
 * <p>The fidelity measure adds three ops per step (exp, mul, sum: the entropy). Copies to the host per step: one float
 * array {@code [C, w+2]} and one int64 array {@code [C, w+1]}, w = k or KMAX for the top kinds, w = N for {@code
 * sample:N} (the N ids drawn on the device by {@link CategoricalDraws} and their log-probs); {@code sample} also sends
 * its {@code [C, N]} float64 uniforms up. A decode step ({@link Decoder}) makes the same arrays and the sampler's choice
 * in one call ({@link DecodeHead}) and copies them in one {@code [C, 2w+3]} float64 array, sending at most one array of
 * uniforms up (the sampler's and the draws').
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

    /**
     * This capture's decode steps with {@code sampler}'s choice in one call each ({@link DecodeHead}), the constants
     * made once on {@code batch}'s device.
     */
    Decoder decoder(DecodeHead head, TokenSampler.Draw sampler, NDManager batch) {
        boolean softened = spec.sampled() && spec.temperature() != 1.0; // sample:N:T draws from softmax(logits / T)
        NDArray labelTemperature = softened ? batch.create((float) spec.temperature()) : sampler.temperature();
        return new Decoder(head, sampler, labelTemperature, softened);
    }

    /** A decode step's choice and labels, see {@link #decoder}. */
    final class Decoder {
        private final DecodeHead head;
        private final TokenSampler.Draw sampler;
        private final NDArray labelTemperature; // 0-dim float32
        private final boolean labelSoftened;

        private Decoder(DecodeHead head, TokenSampler.Draw sampler, NDArray labelTemperature, boolean labelSoftened) {
            this.head = head;
            this.sampler = sampler;
            this.labelTemperature = labelTemperature;
            this.labelSoftened = labelSoftened;
        }

        /**
         * Chooses each row's next token and copies what the step records to the host: the same tokens and labels as
         * {@link TokenSampler.Draw#choose} then {@link #capture}, in one call and one copy (and for a sampler or
         * {@code sample:N} one copy of the uniforms up).
         *
         * @param logits [C, V] or [C, 1, V] float32
         * @param rowSeeds each row's seed; with {@code step} it drives the sampler, with {@code positions} the draws
         * @param positions each row's index in its completion (0-based)
         * @return the host copies and the chosen tokens [C, 1] int64, attached to logits' manager
         */
        Decoded step(NDArray logits, long[] rowSeeds, int[] positions, int step) {
            int c = rowSeeds.length;
            int draws = spec.sampled() ? width : 0;
            boolean greedy = sampler.kind() == DecodeHead.GREEDY;
            NDArray u = sampler.temperature(); // unread
            if (!greedy || draws > 0) {
                int stride = 1 + draws;
                double[] uniforms = new double[c * stride];
                float[] choice = greedy ? null : TokenSampler.uniforms(rowSeeds, step);
                for (int i = 0; i < c; i++) {
                    uniforms[i * stride] = greedy ? 0 : choice[i];
                    if (draws > 0) {
                        LabelSelection.uniforms(rowSeeds[i], positions[i], draws, uniforms, i * stride + 1);
                    }
                }
                u = logits.getManager().create(uniforms, new Shape(c, stride)); // [C, 1 + N]
            }
            DecodeHead.Output out = head.apply(
                    logits,
                    u,
                    sampler.temperature(),
                    sampler.topP(),
                    labelTemperature,
                    sampler.kind(),
                    width,
                    draws,
                    labelSoftened);
            double[] packed = out.packed().toDoubleArray(); // [C, 2w + 3]
            float[] values = new float[c * (width + 2)];
            long[] ids = new long[c * (width + 1)];
            for (int i = 0, k = 0; i < c; i++) {
                for (int j = 0; j < width + 2; j++) {
                    values[i * (width + 2) + j] = (float) packed[k++];
                }
                for (int j = 0; j < width + 1; j++) {
                    ids[i * (width + 1) + j] = (long) packed[k++];
                }
            }
            return new Decoded(new Step(values, ids), out.chosen());
        }
    }

    /** A decode step's host copies and its chosen tokens [C, 1] int64, on the device. */
    record Decoded(Step labels, NDArray chosen) {}

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
