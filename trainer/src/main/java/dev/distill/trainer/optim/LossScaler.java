package dev.distill.trainer.optim;

import ai.djl.ndarray.NDArray;
import dev.distill.model.AmpUnscale;
import dev.distill.model.Ops;
import java.util.Collection;
import java.util.List;

/**
 * Dynamic loss scaling for {@code --precision fp16}, the policy of {@code torch.amp.GradScaler}: the
 * loss is multiplied by the scale before backward; gradients are unscaled before clipping; a step
 * with inf/NaN gradients is skipped and halves the scale; every {@code growthInterval} consecutive
 * clean steps double it.
 */
public final class LossScaler implements AutoCloseable {
    public static final double DEFAULT_INIT_SCALE = 65536.0;
    public static final int DEFAULT_GROWTH_INTERVAL = 2000;

    private double scale;
    private final int growthInterval;
    private int cleanSteps;
    private AmpUnscale kernel; // loaded on the first unscale, on the gradients' device

    /** Scale 2^16, doubling after 2000 clean steps. */
    public LossScaler() {
        this(DEFAULT_INIT_SCALE, DEFAULT_GROWTH_INTERVAL);
    }

    public LossScaler(double initScale, int growthInterval) {
        if (!(initScale > 0) || Double.isInfinite(initScale)) {
            throw new IllegalArgumentException("loss scale: expected a positive number, got " + initScale);
        }
        if (growthInterval < 1) {
            throw new IllegalArgumentException("loss scale growth interval: expected >= 1, got " + growthInterval);
        }
        this.scale = initScale;
        this.growthInterval = growthInterval;
    }

    /** The current scale. */
    public double scale() {
        return scale;
    }

    /** Consecutive clean steps since the scale last changed. */
    public int cleanSteps() {
        return cleanSteps;
    }

    /** loss * scale, differentiable: call backward on this instead of the loss. */
    public NDArray scale(NDArray loss) {
        return loss.mul(Ops.scalar(loss, (float) scale));
    }

    /**
     * Divides every gradient by the scale in place and reports whether all of them are finite (one
     * libtorch call, one host copy). Call once per optimizer step, after the last micro-batch's backward.
     */
    public boolean unscale(Collection<NDArray> grads) {
        if (grads.isEmpty()) {
            return true;
        }
        List<NDArray> list = List.copyOf(grads);
        if (kernel == null) {
            kernel = new AmpUnscale(list.get(0).getManager());
        }
        return kernel.unscale(list, 1.0 / scale);
    }

    /**
     * Records the outcome of this step and adapts the scale.
     *
     * @param finite whether the unscaled gradients were all finite
     * @return whether the optimizer step should be taken (false: skip it and zero the gradients)
     */
    public boolean update(boolean finite) {
        if (!finite) {
            scale *= 0.5;
            cleanSteps = 0;
            return false;
        }
        cleanSteps++;
        if (cleanSteps == growthInterval) {
            scale *= 2.0;
            cleanSteps = 0;
        }
        return true;
    }

    /** Restores scale and clean-step count from a checkpoint. */
    public void load(double savedScale, int savedCleanSteps) {
        if (!(savedScale > 0)
                || Double.isInfinite(savedScale)
                || savedCleanSteps < 0
                || savedCleanSteps >= growthInterval) {
            throw new IllegalArgumentException("loss scaler state: expected scale > 0 and 0 <= clean steps < "
                    + growthInterval + ", got " + savedScale + " and " + savedCleanSteps);
        }
        scale = savedScale;
        cleanSteps = savedCleanSteps;
    }

    /** Releases the unscaling kernel (the scale itself stays readable). */
    @Override
    public void close() {
        if (kernel != null) {
            kernel.close();
            kernel = null;
        }
    }
}
