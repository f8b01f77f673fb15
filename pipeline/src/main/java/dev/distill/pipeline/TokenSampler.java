package dev.distill.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

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
            throw new IllegalArgumentException("--temperature must be > 0 in sample mode (use --mode greedy for argmax)");
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("--top-p must be in (0, 1], got " + topP);
        }
        this.greedy = greedy;
        this.temperature = temperature;
        this.topP = topP;
    }

    /** Next token ids [B] (int64) for logits [B, V] (fp32); rowSeeds[b] and step pick row b's uniform. */
    public NDArray choose(NDArray logits, long[] rowSeeds, int step) {
        if (greedy) {
            return logits.argMax(1); // [B]
        }
        NDManager m = logits.getManager();
        NDArray probs = logits.div(temperature).softmax(1); // [B, V]
        NDArray order = null;
        if (topP < 1f) {
            order = probs.argSort(1, false); // [B, V] most likely first
            probs = probs.gather(order, 1); // [B, V] sorted
            NDArray massBefore = probs.cumSum(1).sub(probs); // [B, V]
            probs = probs.mul(massBefore.lt(topP).toType(DataType.FLOAT32, false)); // nucleus: the smallest prefix reaching top_p
        }
        NDArray cdf = probs.cumSum(1); // [B, V]
        long vocab = cdf.getShape().get(1);
        NDArray target = m.create(uniforms(rowSeeds, step), new Shape(rowSeeds.length, 1)) // [B, 1]
                .toDevice(cdf.getDevice(), false)
                .mul(cdf.get(":, -1:"));
        NDArray choice = cdf.lt(target).toType(DataType.INT64, false).sum(new int[] {1}).clip(0, vocab - 1); // [B]
        return order == null ? choice : order.gather(choice.expandDims(1), 1).squeeze(1); // [B]
    }

    /** One uniform in (0, 1) per row for this step, a pure function of (row seed, step). */
    static float[] uniforms(long[] rowSeeds, int step) {
        float[] u = new float[rowSeeds.length];
        for (int b = 0; b < u.length; b++) {
            long bits = WorkItem.mix(rowSeeds[b] ^ WorkItem.mix(0xA0761D6478BD642FL + step));
            u[b] = (float) (((bits >>> 40) + 0.5) / (1L << 24));
        }
        return u;
    }
}
