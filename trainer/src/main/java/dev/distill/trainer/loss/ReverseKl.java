package dev.distill.trainer.loss;

import ai.djl.ndarray.NDArray;

/** KL(student || teacher) = sum Q (log Q - log P): mode-seeking. */
public final class ReverseKl implements Divergence {
    static final String NAME = "reverse-kl";

    @Override
    public String cliName() {
        return NAME;
    }

    @Override
    public NDArray rows(NDArray teacher, NDArray student) {
        return student.exp().mul(student.sub(teacher)).sum(new int[] {1}); // [N]
    }
}
