package dev.distill.trainer.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * AdamW (Loshchilov & Hutter), step for step what {@code torch.optim.AdamW(foreach=False)} computes:
 * decoupled weight decay p -= lr * wd * p, bias-corrected moments, eps added after the square root.
 * Weight decay applies to parameters of rank >= 2 only: 1-D (and 0-D) tensors, i.e. biases and
 * norm weights, are never decayed, the rule HF Trainer applies by name. Moments are fp32 on the
 * parameter's device; parameters are updated in place through a detached view, so they stay leaves
 * that require gradients and no autograd graph grows.
 */
public final class AdamW implements AutoCloseable {

    /** Hyper-parameters; torch's defaults are betas 0.9/0.999, eps 1e-8. */
    public record Config(double beta1, double beta2, double eps, double weightDecay) {
        public Config {
            if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
                throw new IllegalArgumentException(
                        "AdamW betas: expected values in [0, 1), got " + beta1 + ", " + beta2);
            }
            if (!(eps > 0)) {
                throw new IllegalArgumentException("AdamW eps: expected a positive number, got " + eps);
            }
            if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
                throw new IllegalArgumentException("--weight-decay: expected a number >= 0, got " + weightDecay);
            }
        }

        /** betas 0.9/0.999, eps 1e-8 and the given weight decay. */
        public static Config withWeightDecay(double weightDecay) {
            return new Config(0.9, 0.999, 1e-8, weightDecay);
        }
    }

    private final Config config;
    private final NDManager manager;
    private final Map<String, NDArray> expAvg = new LinkedHashMap<>();
    private final Map<String, NDArray> expAvgSq = new LinkedHashMap<>();
    private long step;

    /** @param parent a long-lived manager; the moments live in a sub-manager closed by {@link #close()} */
    public AdamW(NDManager parent, Config config) {
        this.config = config;
        this.manager = parent.newSubManager();
    }

    /** Whether the weight-decay rule applies to a parameter: only tensors of rank >= 2. */
    public static boolean decays(NDArray param) {
        return param.getShape().dimension() >= 2;
    }

    /**
     * One optimizer step over every parameter that has an accumulated gradient (others are skipped,
     * as torch skips {@code grad is None}). Does not zero the gradients: see {@link Gradients#zero}.
     *
     * @param params parameters by name (leaves with requiresGradient)
     * @param lr the learning rate for this step, e.g. {@link LrSchedule#lr(long)}
     */
    public void step(Map<String, NDArray> params, double lr) {
        step(params, null, lr);
    }

    /**
     * One optimizer step with gradients given by parameter name instead of read from the parameters,
     * for fp32 master weights trained through a half-precision copy of the model: the gradients are
     * the copy's, widened to fp32. Parameters without an entry in {@code grads} are skipped.
     *
     * @param grads gradients by parameter name, shaped like the parameters; null: read each parameter's own
     */
    public void step(Map<String, NDArray> params, Map<String, NDArray> grads, double lr) {
        step++;
        double bias1 = 1 - Math.pow(config.beta1(), step);
        double bias2Sqrt = Math.sqrt(1 - Math.pow(config.beta2(), step));
        // the step's scalar operands, made once on the parameters' device: a Java number operand would be
        // copied to the device at every use, i.e. 8 times per parameter
        try (NDManager scalars = manager.newSubManager()) {
            NDArray decay = scalars.create((float) (1 - lr * config.weightDecay()));
            NDArray beta1 = scalars.create((float) config.beta1());
            NDArray oneMinusBeta1 = scalars.create((float) (1 - config.beta1()));
            NDArray beta2 = scalars.create((float) config.beta2());
            NDArray oneMinusBeta2 = scalars.create((float) (1 - config.beta2()));
            NDArray bias2 = scalars.create((float) bias2Sqrt);
            NDArray eps = scalars.create((float) config.eps());
            NDArray stepSize = scalars.create((float) (lr / bias1));
            for (Map.Entry<String, NDArray> e : params.entrySet()) {
                NDArray param = e.getValue();
                try (NDScope scope = new NDScope()) {
                    scope.suppressNotUsedWarning(); // closes this block's temporaries
                    NDArray grad = grads == null ? Gradients.of(param) : grads.get(e.getKey());
                    if (grad == null) {
                        continue;
                    }
                    NDArray g = grad.getDataType() == DataType.FLOAT32 ? grad : grad.toType(DataType.FLOAT32, false);
                    NDArray m = moment(expAvg, e.getKey(), param);
                    NDArray v = moment(expAvgSq, e.getKey(), param);
                    NDArray weight = param.stopGradient(); // same storage, outside autograd
                    if (config.weightDecay() != 0 && decays(param)) {
                        weight.muli(decay);
                    }
                    m.muli(beta1).addi(g.mul(oneMinusBeta1));
                    v.muli(beta2).addi(g.square().muli(oneMinusBeta2));
                    NDArray denom = v.sqrt().divi(bias2).addi(eps);
                    weight.subi(m.div(denom).muli(stepSize));
                }
            }
        }
    }

    /**
     * Steps taken so far. One count for all parameters (torch keeps one per parameter; they differ
     * only for a parameter that first receives a gradient after step 1).
     */
    public long stepCount() {
        return step;
    }

    /**
     * The live state for checkpointing: step count and the moments by parameter name. The arrays are
     * the optimizer's own (do not close or modify them); read them before the next {@link #step}.
     */
    public AdamWState state() {
        return new AdamWState(step, Collections.unmodifiableMap(expAvg), Collections.unmodifiableMap(expAvgSq));
    }

    /**
     * Replaces the state with a copy of {@code saved} (e.g. read from a checkpoint), placing each moment
     * on its parameter's device in fp32.
     *
     * @param params the parameters the state belongs to; every moment must name one with its shape
     */
    public void loadState(AdamWState saved, Map<String, NDArray> params) {
        if (saved.step() < 0) {
            throw new IllegalArgumentException("optimizer state: step must be >= 0, got " + saved.step());
        }
        if (!saved.expAvg().keySet().equals(saved.expAvgSq().keySet())) {
            throw new IllegalArgumentException("optimizer state: exp_avg and exp_avg_sq name different parameters");
        }
        Map<String, NDArray> m = copies(saved.expAvg(), params, "exp_avg");
        Map<String, NDArray> v = copies(saved.expAvgSq(), params, "exp_avg_sq");
        closeAll();
        expAvg.putAll(m);
        expAvgSq.putAll(v);
        step = saved.step();
    }

    @Override
    public void close() {
        closeAll();
        manager.close();
    }

    private NDArray moment(Map<String, NDArray> moments, String name, NDArray param) {
        NDArray existing = moments.get(name);
        if (existing != null) {
            return existing;
        }
        NDArray zeros = manager.zeros(param.getShape(), DataType.FLOAT32, param.getDevice()); // like param
        NDScope.unregister(zeros); // outlives the step's scope
        moments.put(name, zeros);
        return zeros;
    }

    private Map<String, NDArray> copies(Map<String, NDArray> saved, Map<String, NDArray> params, String what) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : saved.entrySet()) {
            NDArray param = params.get(e.getKey());
            if (param == null) {
                throw new IllegalArgumentException("optimizer state: " + what + " names '" + e.getKey()
                        + "', which is not a parameter of this model");
            }
            NDArray src = e.getValue();
            if (!src.getShape().equals(param.getShape())) {
                throw new IllegalArgumentException("optimizer state: " + what + " of '" + e.getKey() + "' has shape "
                        + src.getShape() + " but the parameter has " + param.getShape());
            }
            try (NDArray onDevice = src.toDevice(param.getDevice(), true)) { // like param
                NDArray copy = onDevice.toType(DataType.FLOAT32, true); // like param, fp32
                copy.attach(manager);
                NDScope.unregister(copy); // owned by the optimizer, not by any caller's scope
                out.put(e.getKey(), copy);
            }
        }
        return out;
    }

    private void closeAll() {
        expAvg.values().forEach(NDArray::close);
        expAvgSq.values().forEach(NDArray::close);
        expAvg.clear();
        expAvgSq.clear();
    }
}
