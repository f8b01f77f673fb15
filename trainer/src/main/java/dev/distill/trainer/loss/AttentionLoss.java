package dev.distill.trainer.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.distill.model.Ops;

/**
 * Attention distillation ({@code --attention-loss kl}), MiniLM's self-attention distribution transfer:
 * KL(teacher || student) between the attention distributions of a teacher layer and a student layer,
 * per head and per real query token, over the key positions.
 *
 * <p>Unequal head counts: both sides' heads are averaged in consecutive groups down to
 * g = gcd(H_teacher, H_student) heads (the mean of attention distributions is a distribution), and
 * group i of the teacher is matched with group i of the student. With equal counts that is MiniLM's
 * per-head KL; a 2-head student of a 4-head teacher matches each of its heads with the mean of two
 * teacher heads.
 */
public final class AttentionLoss {
    /** log is taken of max(p, this): masked keys have p = 0 on both sides and contribute 0. */
    private static final float LOG_FLOOR = 1e-30f;

    private AttentionLoss() {}

    /**
     * @param teacher [B, Ht, T, S] float32 attention probabilities (a constant)
     * @param student [B, Hs, T, S] float32 attention probabilities (in the autograd graph)
     * @param mask [B, T] float32, 1 for real query tokens
     * @return a scalar: the sum over real query tokens of the KL averaged over head groups
     */
    public static NDArray sum(NDArray teacher, NDArray student, NDArray mask) {
        Shape ts = teacher.getShape();
        Shape ss = student.getShape();
        if (ts.dimension() != 4
                || ss.dimension() != 4
                || ts.get(0) != ss.get(0)
                || ts.get(2) != ss.get(2)
                || ts.get(3) != ss.get(3)) {
            throw new IllegalArgumentException(
                    "attention: teacher " + ts + " and student " + ss + " must be [B, H, T, S] over the same tokens");
        }
        long groups = gcd(ts.get(1), ss.get(1));
        NDArray p = grouped(teacher, groups); // [B, g, T, S]
        NDArray q = grouped(student, groups); // [B, g, T, S]
        NDArray kl = p.mul(p.maximum(Ops.scalar(p, LOG_FLOOR))
                        .log()
                        .sub(q.maximum(Ops.scalar(q, LOG_FLOOR)).log()))
                .sum(new int[] {-1}); // [B, g, T]
        return kl.mean(new int[] {1}).mul(mask).sum();
    }

    /** [B, H, T, S] -> [B, g, T, S]: the mean of each run of H / g consecutive heads. */
    static NDArray grouped(NDArray probs, long groups) {
        Shape s = probs.getShape();
        long per = s.get(1) / groups;
        if (per == 1) {
            return probs;
        }
        return probs.reshape(s.get(0), groups, per, s.get(2), s.get(3)).mean(new int[] {2});
    }

    static long gcd(long a, long b) {
        return b == 0 ? a : gcd(b, a % b);
    }
}
