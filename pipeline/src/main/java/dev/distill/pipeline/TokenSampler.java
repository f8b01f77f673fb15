package dev.distill.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.distill.model.DecodeHead;

/**
 * Chooses each row's next token on the model's device: greedy (argmax), or sampled with
 * temperature and top-p by inverse CDF. Each row is driven by one uniform number per step derived
 * from its own seed and the step, so a row's tokens do not depend on the rest of its batch.
 * Temperature and top-p only shape this choice; the recorded distribution stays at temperature 1.
 */
public final class TokenSampler {
    private final boolean greedy;
    private final float temperature;
    private final float topP;

    public TokenSampler(boolean greedy, float temperature, float topP) {
        if (!greedy && !(temperature > 0)) {
            throw new IllegalArgumentException(
                    "--temperature must be > 0 in sample mode (use --mode greedy for argmax)");
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("--top-p must be in (0, 1], got " + topP);
        }
        this.greedy = greedy;
        this.temperature = temperature;
        this.topP = topP;
    }

    /**
     * This sampler with its constants on {@code batch}'s device, made once per batch: a scalar operand
     * made at every step would be a host-to-device copy per token.
     */
    public Draw on(NDManager batch) {
        return new Draw(batch.create(temperature), batch.create(topP));
    }

    /** The sampler bound to one batch's device; see {@link #on}. */
    public final class Draw {
        private final NDArray temperatureValue; // 0-dim float32
        private final NDArray topPMass; // 0-dim float32

        private Draw(NDArray temperatureValue, NDArray topPMass) {
            this.temperatureValue = temperatureValue;
            this.topPMass = topPMass;
        }

        /** This sampler as {@link DecodeHead#apply}'s {@code sampler}. */
        int kind() {
            return greedy ? DecodeHead.GREEDY : topP < 1f ? DecodeHead.SAMPLE_TOP_P : DecodeHead.SAMPLE;
        }

        /** The temperature, 0-dim float32 on the batch's device. */
        NDArray temperature() {
            return temperatureValue;
        }

        /** The top-p mass, 0-dim float32 on the batch's device. */
        NDArray topP() {
            return topPMass;
        }

        /**
         * Next token ids [B] (int64) for logits [B, V] (fp32); rowSeeds[b] and step pick row b's uniform.
         * The only transfer is the [B, 1] uniforms going up; the choice stays on the device.
         */
        public NDArray choose(NDArray logits, long[] rowSeeds, int step) {
            if (greedy) {
                return logits.argMax(1); // [B]
            }
            NDManager m = logits.getManager();
            NDArray probs = logits.div(temperatureValue).softmax(1); // [B, V]
            NDArray order = null;
            if (topP < 1f) {
                order = probs.argSort(1, false); // [B, V] most likely first
                probs = probs.gather(order, 1); // [B, V] sorted
                NDArray massBefore = probs.cumSum(1).sub(probs); // [B, V]
                // nucleus: the smallest prefix reaching top_p
                probs = probs.mul(massBefore.lt(topPMass).toType(DataType.FLOAT32, false));
            }
            NDArray cdf = probs.cumSum(1); // [B, V]
            NDArray target = m.create(uniforms(rowSeeds, step), new Shape(rowSeeds.length, 1)) // [B, 1]
                    .mul(cdf.get(":, -1:"));
            // u <= 1, so target <= cdf[-1]: the last entry is never below it and the count is at most V - 1
            NDArray choice = cdf.lt(target).toType(DataType.INT64, false).sum(new int[] {1}); // [B]
            return order == null
                    ? choice
                    : order.gather(choice.expandDims(1), 1).squeeze(1); // [B]
        }
    }

    /** One uniform in (0, 1] per row for this step, a pure function of (row seed, step). */
    static float[] uniforms(long[] rowSeeds, int step) {
        float[] u = new float[rowSeeds.length];
        for (int b = 0; b < u.length; b++) {
            long bits = WorkItem.mix(rowSeeds[b] ^ WorkItem.mix(0xA0761D6478BD642FL + step));
            u[b] = (float) (((bits >>> 40) + 0.5) / (1L << 24));
        }
        return u;
    }
}
