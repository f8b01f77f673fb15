package dev.distill.trainer.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.distill.model.Ops;

/**
 * Value-relation distillation ({@code --value-relation-weight}), MiniLM's second term with MiniLMv2's multi-head
 * relations: a layer's value vectors, all heads concatenated ([B, T, Hkv * D]), are re-split into R relation heads of
 * width d_r = Hkv * D / R, and each head's scaled dot-product relation softmax(V_r V_rᵀ / √d_r) over the keys a
 * query may see (causal, padding excluded) is matched, KL(teacher ‖ student), per relation head and real query
 * token. Re-splitting both sides into the same R is what lets a teacher and a student with different head counts
 * and widths be compared: R must divide both value widths.
 */
public final class ValueRelationLoss {
    private static final float MASKED = -1e9f;

    private ValueRelationLoss() {}

    /**
     * @param teacher teacher values [B, Hkv_t, T, D_t] (a constant)
     * @param student student values [B, Hkv_s, T, D_s] (in the autograd graph)
     * @param attentionMask [B, T] nonzero for real tokens
     * @param mask [B, T] float32 query weights (1 for real tokens)
     * @param relationHeads R
     * @return a scalar: the sum over real query tokens of the KL averaged over the R relation heads
     */
    public static NDArray sum(
            NDArray teacher, NDArray student, NDArray attentionMask, NDArray mask, int relationHeads) {
        NDArray bias = bias(attentionMask); // [B, 1, T, T]
        NDArray logP =
                relations(teacher.toType(DataType.FLOAT32, false), relationHeads, bias, "teacher"); // [B, R, T, T]
        NDArray logQ =
                relations(LossInputs.float32Differentiable(student), relationHeads, bias, "student"); // [B, R, T, T]
        NDArray kl = logP.exp().mul(logP.sub(logQ)).sum(new int[] {-1}); // [B, R, T]
        return kl.mean(new int[] {1}).mul(mask).sum();
    }

    /** log softmax(V_r V_rᵀ / √d_r + bias) over the keys: [B, R, T, T]. */
    private static NDArray relations(NDArray values, int r, NDArray bias, String role) {
        Shape s = values.getShape(); // [B, Hkv, T, D]
        long b = s.get(0);
        long t = s.get(2);
        long width = s.get(1) * s.get(3);
        requireDivides(r, width, role + "'s value width " + width + " (" + s.get(1) + " KV heads x " + s.get(3) + ")");
        long dr = width / r;
        NDArray v = values.transpose(0, 2, 1, 3).reshape(b, t, r, dr).transpose(0, 2, 1, 3); // [B, R, T, d_r]
        NDArray scores = v.matMul(v.transpose(0, 1, 3, 2)).div(Ops.scalar(v, (float) Math.sqrt(dr))); // [B, R, T, T]
        return scores.add(bias).logSoftmax(-1);
    }

    /**
     * Refuses a relation-head count R that does not divide a value width.
     *
     * @param what the width, for the message ("the student's value width 128 (2 KV heads x 64)")
     */
    public static void requireDivides(int r, long width, String what) {
        if (r < 1 || width % r != 0) {
            throw new IllegalArgumentException("--relation-heads " + r + " does not divide the " + what);
        }
    }

    /** 0 where key k is visible from query q (k <= q and k a real token), -1e9 elsewhere: [B, 1, T, T]. */
    private static NDArray bias(NDArray attentionMask) {
        NDManager m = attentionMask.getManager();
        long t = attentionMask.getShape().get(1);
        NDArray position = m.arange(0, (int) t, 1, DataType.FLOAT32); // [T]
        NDArray causal = position.expandDims(0)
                .gt(position.expandDims(1))
                .toType(DataType.FLOAT32, false); // [T, T]: 1 for future keys
        NDArray padKey = attentionMask
                .toType(DataType.FLOAT32, false)
                .neg()
                .add(1f) // [B, T]: 1 for padding
                .expandDims(1)
                .expandDims(1); // [B, 1, 1, T]
        return causal.add(padKey).clip(0f, 1f).mul(MASKED); // [B, 1, T, T]
    }
}
