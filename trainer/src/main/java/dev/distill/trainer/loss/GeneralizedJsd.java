package dev.distill.trainer.loss;

import ai.djl.ndarray.NDArray;
import dev.distill.model.Ops;

/**
 * Generalised Jensen-Shannon divergence, TRL GKD convention: with P = teacher, Q = student and
 * M = beta P + (1 - beta) Q, JSD_beta = beta KL(P || M) + (1 - beta) KL(Q || M). As in TRL, beta = 0
 * is defined as forward KL(P || Q) and beta = 1 as reverse KL(Q || P) (the formula itself vanishes at
 * both ends; these are its limits divided by beta resp. 1 - beta).
 */
public final class GeneralizedJsd implements Divergence {
    static final String NAME = "jsd";

    private final double beta;
    private final Divergence endpoint;

    /** @param beta weight of the teacher in the mixture, in [0, 1] */
    public GeneralizedJsd(double beta) {
        if (!(beta >= 0 && beta <= 1)) {
            throw new IllegalArgumentException("--beta: expected a value in [0, 1], got " + beta);
        }
        this.beta = beta;
        this.endpoint = beta == 0 ? new ForwardKl() : beta == 1 ? new ReverseKl() : null;
    }

    /** Weight of the teacher in the mixture M. */
    public double beta() {
        return beta;
    }

    @Override
    public String cliName() {
        return NAME;
    }

    @Override
    public NDArray rows(NDArray teacher, NDArray student) {
        if (endpoint != null) {
            return endpoint.rows(teacher, student);
        }
        NDArray a = teacher.add((float) Math.log(beta)); // [N, S] log(beta P)
        NDArray b = student.add((float) Math.log1p(-beta)); // [N, S] log((1 - beta) Q)
        NDArray shift = a.maximum(b).stopGradient(); // [N, S]
        NDArray logM = a.sub(shift).exp().add(b.sub(shift).exp()).log().add(shift); // [N, S]
        NDArray klTeacher = teacher.exp().mul(teacher.sub(logM)).sum(new int[] {1}); // [N]
        NDArray klStudent = student.exp().mul(student.sub(logM)).sum(new int[] {1}); // [N]
        return klTeacher.mul(Ops.scalar(klTeacher, (float) beta)).add(klStudent.mul(Ops.scalar(klStudent, (float)
                (1 - beta))));
    }
}
