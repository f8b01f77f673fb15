package dev.distill.trainer.optim;

import java.util.Locale;

/**
 * Learning rate as a pure function of the optimizer step: linear warmup from 0, then cosine (to 0 or
 * a floor ratio), linear decay to 0, or constant. Numerically the same as HF transformers'
 * {@code get_cosine_schedule_with_warmup} / {@code get_cosine_with_min_lr_schedule_with_warmup} /
 * {@code get_linear_schedule_with_warmup} / {@code get_constant_schedule_with_warmup}, including their
 * quirks: step 0 of a warmup uses lr 0, and cosine past totalSteps rises again.
 */
public final class LrSchedule {

    /** The decay shape after warmup ({@code --lr-schedule}). */
    public enum Kind {
        COSINE("cosine"),
        LINEAR("linear"),
        CONSTANT("constant");

        private final String cliName;

        Kind(String cliName) {
            this.cliName = cliName;
        }

        public String cliName() {
            return cliName;
        }

        /** Parses {@code --lr-schedule cosine|linear|constant}. */
        public static Kind parse(String name) {
            String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
            for (Kind k : values()) {
                if (k.cliName.equals(n)) {
                    return k;
                }
            }
            throw new IllegalArgumentException(
                    "--lr-schedule: expected cosine, linear or constant, got '" + name + "'");
        }
    }

    private final Kind kind;
    private final double peakLr;
    private final long warmupSteps;
    private final long totalSteps;
    private final double minLrRatio;

    /**
     * @param kind decay shape
     * @param peakLr the learning rate reached at the end of warmup
     * @param warmupSteps steps of linear warmup from 0 (0: none)
     * @param totalSteps total optimizer steps of the run
     * @param minLrRatio cosine only: the floor as a fraction of peakLr (HF min_lr_rate); 0 otherwise
     */
    public LrSchedule(Kind kind, double peakLr, long warmupSteps, long totalSteps, double minLrRatio) {
        if (!(peakLr >= 0) || Double.isInfinite(peakLr)) {
            throw new IllegalArgumentException("--lr: expected a number >= 0, got " + peakLr);
        }
        if (warmupSteps < 0 || totalSteps < 0) {
            throw new IllegalArgumentException(
                    "lr schedule: warmup and total steps must be >= 0, got " + warmupSteps + " and " + totalSteps);
        }
        if (!(minLrRatio >= 0 && minLrRatio <= 1)) {
            throw new IllegalArgumentException("--min-lr-ratio: expected a value in [0, 1], got " + minLrRatio);
        }
        if (minLrRatio != 0 && kind != Kind.COSINE) {
            throw new IllegalArgumentException(
                    "--min-lr-ratio applies to the cosine schedule only, not " + kind.cliName());
        }
        this.kind = kind;
        this.peakLr = peakLr;
        this.warmupSteps = warmupSteps;
        this.totalSteps = totalSteps;
        this.minLrRatio = minLrRatio;
    }

    /**
     * The learning rate of optimizer step {@code step}, counted from 0 (the number of steps already
     * taken), exactly as HF's LambdaLR hands it to the optimizer.
     */
    public double lr(long step) {
        return peakLr * factor(step);
    }

    /** The multiplier of the peak learning rate at {@code step}. */
    public double factor(long step) {
        if (step < 0) {
            throw new IllegalArgumentException("lr schedule: step must be >= 0, got " + step);
        }
        if (step < warmupSteps) {
            return (double) step / (double) Math.max(1, warmupSteps);
        }
        double decaySteps = Math.max(1, totalSteps - warmupSteps);
        switch (kind) {
            case CONSTANT:
                return 1.0;
            case LINEAR:
                return Math.max(0.0, (double) (totalSteps - step) / decaySteps);
            case COSINE:
            default:
                double progress = (double) (step - warmupSteps) / decaySteps;
                double cosine = 0.5 * (1.0 + Math.cos(Math.PI * 0.5 * 2.0 * progress));
                return Math.max(0.0, cosine * (1 - minLrRatio) + minLrRatio);
        }
    }
}
