package dev.distill.trainer.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import dev.distill.model.FusedAdamW;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW (Loshchilov & Hutter) as {@code torch.optim.AdamW} computes it: decoupled weight decay p -= lr * wd * p,
 * bias-corrected moments, eps added after the square root. Weight decay applies to parameters of rank >= 2 only: 1-D
 * (and 0-D) tensors, i.e. biases and norm weights, are never decayed, the rule HF Trainer applies by name.
 *
 * <p>A step is two libtorch calls, one per weight-decay group, each {@code torch._fused_adamw_} over the group's
 * tensors ({@link FusedAdamW}): every element of a parameter, its gradient and its two fp32 moments is read and
 * written once, in place, with no temporaries and no copies (the moments are one tensor per parameter, as torch keeps
 * them). Parameters are updated through detached views (same storage), so they stay leaves that require gradients
 * and no autograd graph grows.
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
    private final FusedAdamW kernel;
    /** Moments by parameter name, of every parameter stepped so far or loaded from a checkpoint. */
    private final Map<String, Moments> moments = new LinkedHashMap<>();
    /** Detached views of the parameters stepped so far, by name: what the kernel updates. */
    private final Map<String, Target> targets = new LinkedHashMap<>();

    /** The names of the parameters last stepped or loaded, in their map order: the order of {@link #state()}. */
    private List<String> order = List.of();

    private long step;

    /** A parameter's fp32 moments, [shape of the parameter] each. */
    private record Moments(NDArray expAvg, NDArray expAvgSq) {}

    /** A parameter and a view of it outside autograd (same storage). */
    private record Target(NDArray param, NDArray view) {}

    /** @param parent a long-lived manager; the moments live in a sub-manager closed by {@link #close()} */
    public AdamW(NDManager parent, Config config) {
        this.config = config;
        this.manager = parent.newSubManager();
        this.kernel = new FusedAdamW(manager);
    }

    /** Whether the weight-decay rule applies to a parameter: only tensors of rank >= 2. */
    public static boolean decays(NDArray param) {
        return param.getShape().dimension() >= 2;
    }

    /**
     * One optimizer step over every parameter that has a gradient in {@code grads} (others are skipped, as torch
     * skips {@code grad is None}; their moments are kept). Does not zero the gradients: see {@link Gradients#zero}.
     *
     * @param params parameters by name (leaves with requiresGradient), fp32
     * @param grads gradients by parameter name, shaped like the parameters and contiguous, already unscaled and
     *     clipped (e.g. {@link Gradients#of(NDArray)} of each parameter, or fp32 copies of a half-precision model's)
     * @param lr the learning rate for this step, e.g. {@link LrSchedule#lr(long)}
     */
    public void step(Map<String, NDArray> params, Map<String, NDArray> grads, double lr) {
        step++;
        order = List.copyOf(params.keySet());
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning(); // closes any dtype conversion of a gradient
            for (boolean decayGroup : new boolean[] {true, false}) {
                List<NDArray> p = new ArrayList<>();
                List<NDArray> g = new ArrayList<>();
                List<NDArray> m = new ArrayList<>();
                List<NDArray> v = new ArrayList<>();
                for (Map.Entry<String, NDArray> e : params.entrySet()) {
                    NDArray grad = grads.get(e.getKey());
                    if (grad == null || decays(e.getValue()) != decayGroup) {
                        continue;
                    }
                    NDArray param = e.getValue();
                    Moments mv = moments.computeIfAbsent(e.getKey(), name -> zeroMoments(param));
                    p.add(target(e.getKey(), param));
                    g.add(grad.getDataType() == param.getDataType() ? grad : grad.toType(param.getDataType(), false));
                    m.add(mv.expAvg());
                    v.add(mv.expAvgSq());
                }
                double wd = decayGroup ? config.weightDecay() : 0;
                kernel.step(p, g, m, v, step, lr, config.beta1(), config.beta2(), wd, config.eps());
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
     * The state for checkpointing: step count and the moments by parameter name (the optimizer's own arrays: do not
     * close or modify them); read them before the next {@link #step}.
     */
    public AdamWState state() {
        Map<String, NDArray> m = new LinkedHashMap<>();
        Map<String, NDArray> v = new LinkedHashMap<>();
        List<String> names = new ArrayList<>(order); // the parameters' order, so checkpoints are the same bytes
        moments.keySet().stream().filter(name -> !order.contains(name)).forEach(names::add);
        for (String name : names) {
            Moments mv = moments.get(name);
            if (mv != null) {
                m.put(name, mv.expAvg());
                v.put(name, mv.expAvgSq());
            }
        }
        return new AdamWState(step, Collections.unmodifiableMap(m), Collections.unmodifiableMap(v));
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
        closeMoments();
        m.forEach((name, avg) -> moments.put(name, new Moments(avg, v.get(name))));
        order = List.copyOf(params.keySet());
        step = saved.step();
    }

    @Override
    public void close() {
        closeMoments();
        kernel.close();
        manager.close();
    }

    /** Zero moments for a parameter's first step: fp32, contiguous, on its device. */
    private Moments zeroMoments(NDArray param) {
        return new Moments(
                own(manager.zeros(param.getShape(), DataType.FLOAT32, param.getDevice())),
                own(manager.zeros(param.getShape(), DataType.FLOAT32, param.getDevice())));
    }

    /** The detached view of a parameter the kernel updates, made once per parameter array. */
    private NDArray target(String name, NDArray param) {
        Target t = targets.get(name);
        if (t == null || t.param() != param) {
            if (t != null) {
                t.view().close();
            }
            t = new Target(param, own(param.stopGradient()));
            targets.put(name, t);
        }
        return t.view();
    }

    /** Moves an array to this optimizer's manager, out of any caller's scope. */
    private NDArray own(NDArray a) {
        a.attach(manager);
        NDScope.unregister(a);
        return a;
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
                out.put(e.getKey(), own(onDevice.toType(DataType.FLOAT32, true))); // like param, fp32
            }
        }
        return out;
    }

    private void closeMoments() {
        for (Moments mv : moments.values()) {
            mv.expAvg().close();
            mv.expAvgSq().close();
        }
        moments.clear();
    }
}
