package dev.distill.trainer.loss;

import ai.djl.ndarray.NDArray;

/** KL(teacher || student) = sum P (log P - log Q): mode-covering, the classic Hinton KD loss. */
public final class ForwardKl implements Divergence {
    static final String NAME = "forward-kl";

    @Override
    public String cliName() {
        return NAME;
    }

    @Override
    public NDArray rows(NDArray teacher, NDArray student) {
        return teacher.exp().mul(teacher.sub(student)).sum(new int[] {1}); // [N]
    }
}
