package dev.distill.trainer.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.distill.model.Ops;
import java.util.Locale;

/**
 * Hidden-state distillation ({@code --feature-loss}): the distance between a student layer's hidden
 * state, mapped to the teacher's width by a learned projection, and the mapped teacher layer's hidden
 * state, per real token: {@code mse} = mean over the teacher's H dimensions of (P h_s - h_t)^2 (as
 * torch's mse_loss, DistillKit's hs_mse), {@code cosine} = 1 - cos(P h_s, h_t) (DistillKit's hs_cosine).
 */
public enum FeatureLoss {
    MSE("mse"),
    COSINE("cosine");

    private static final float COSINE_EPS = 1e-8f;
    private final String cliName;

    FeatureLoss(String cliName) {
        this.cliName = cliName;
    }

    /** The {@code --feature-loss} spelling. */
    public String cliName() {
        return cliName;
    }

    /** Parses {@code --feature-loss mse|cosine}. */
    public static FeatureLoss parse(String name) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        for (FeatureLoss f : values()) {
            if (f.cliName.equals(n)) {
                return f;
            }
        }
        throw new IllegalArgumentException("--feature-loss: expected mse or cosine, got '" + name + "'");
    }

    /**
     * The summed per-token distance over the real positions.
     *
     * @param projected the student's projected hidden states [B, T, Ht] float32 (in the autograd graph)
     * @param teacher the teacher's hidden states [B, T, Ht] (any float dtype; a constant)
     * @param mask [B, T] float32, 1 for real tokens, 0 for padding
     * @return a scalar: the sum over positions of mask * distance
     */
    public NDArray sum(NDArray projected, NDArray teacher, NDArray mask) {
        NDArray t = teacher.getDataType() == DataType.FLOAT32 ? teacher : teacher.toType(DataType.FLOAT32, false);
        NDArray perToken; // [B, T]
        if (this == MSE) {
            perToken = projected.sub(t).square().mean(new int[] {-1});
        } else {
            NDArray dot = projected.mul(t).sum(new int[] {-1});
            NDArray norms =
                    projected.norm(new int[] {-1}).mul(t.norm(new int[] {-1})).maximum(Ops.scalar(t, COSINE_EPS));
            perToken = dot.div(norms).neg().add(1f);
        }
        return perToken.mul(mask).sum();
    }
}
