package dev.distill.trainer.loss;

import ai.djl.ndarray.NDArray;
import dev.distill.model.Ops;

/** Total variation distance 0.5 * sum |P - Q|, bounded in [0, 1] per position (before T^2). */
public final class TotalVariation implements Divergence {
    static final String NAME = "tvd";

    @Override
    public String cliName() {
        return NAME;
    }

    @Override
    public NDArray rows(NDArray teacher, NDArray student) {
        return teacher.exp().sub(student.exp()).abs().sum(new int[] {1}).mul(Ops.scalar(student, 0.5f)); // [N]
    }
}
