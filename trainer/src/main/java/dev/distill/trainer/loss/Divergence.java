package dev.distill.trainer.loss;

import ai.djl.ndarray.NDArray;
import java.util.Locale;

/**
 * A row-wise divergence between the teacher P and the student Q on a shared support, both given as
 * normalised log-probabilities [N, S]; returns [N]. P is always the teacher, Q the student.
 */
public interface Divergence {

    /** The {@code --loss} spelling. */
    String cliName();

    /**
     * D(P, Q) per row.
     *
     * @param teacher log P [N, S] (no gradient needed)
     * @param student log Q [N, S] (gradients flow through it)
     * @return [N]
     */
    NDArray rows(NDArray teacher, NDArray student);

    /**
     * Resolves {@code --loss forward-kl|reverse-kl|jsd|tvd}; {@code beta} is used by {@code jsd} only.
     */
    static Divergence named(String name, double beta) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        switch (n) {
            case ForwardKl.NAME:
                return new ForwardKl();
            case ReverseKl.NAME:
                return new ReverseKl();
            case GeneralizedJsd.NAME:
                return new GeneralizedJsd(beta);
            case TotalVariation.NAME:
                return new TotalVariation();
            default:
                throw new IllegalArgumentException(
                        "--loss: expected forward-kl, reverse-kl, jsd, tvd or sampled-rkl, got '" + name + "'");
        }
    }
}
