package dev.distill.trainer.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * AdamW (Loshchilov & Hutter), step for step what {@code torch.optim.AdamW(foreach=False)} computes:
 * decoupled weight decay p -= lr * wd * p, bias-corrected moments, eps added after the square root.
 * Weight decay applies to parameters of rank >= 2 only: 1-D (and 0-D) tensors, i.e. biases and
 * norm weights, are never decayed, the rule HF Trainer applies by name.
 *
 * <p>Foreach style: the fp32 moments live in one flat buffer each ([P], decayed parameters first),
 * and a step gathers the gradients and the parameters into flat buffers, runs the update there in a
 * fixed handful of libtorch calls, and copies each parameter's slice back in place through a detached
 * view (so parameters stay leaves that require gradients and no autograd graph grows): about two
 * calls per parameter instead of a dozen, which is what a step costs on a GPU. Each element sees the
 * same fp32 operations in the same order as the per-parameter loop it replaces.
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

    private static final NDIndex ALL = new NDIndex("...");

    private final Config config;
    private final NDManager manager;
    /** Moments of parameters outside the flat layout (loaded from a checkpoint, or not stepped lately). */
    private final Map<String, NDArray> parkedAvg = new LinkedHashMap<>();

    private final Map<String, NDArray> parkedAvgSq = new LinkedHashMap<>();
    private FlatLayout layout; // null until the first step, or after the set of stepped parameters changed
    private NDArray expAvg; // [P] fp32, in layout order
    private NDArray expAvgSq; // [P] fp32
    private NDManager stateViews; // the per-parameter views handed out by state()
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
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning(); // closes this block's temporaries
            NDArray flat = gatherGradients(params, grads);
            if (flat == null) {
                step++;
            } else {
                step(flat, lr);
            }
        }
    }

    /**
     * The gradients of the parameters that have one, gathered into one flat fp32 buffer [P] laid out
     * as {@link #step(NDArray, double)} expects (n + 1 calls): unscale and clip it there, in a few
     * calls instead of a few per parameter. A new array, closed by the caller's scope.
     *
     * @param grads gradients by parameter name; null: read each parameter's own
     * @return the flat gradient, or null when no parameter has one
     */
    public NDArray gatherGradients(Map<String, NDArray> params, Map<String, NDArray> grads) {
        Map<String, NDArray> stepped = new LinkedHashMap<>(); // name -> gradient
        for (Map.Entry<String, NDArray> e : params.entrySet()) {
            NDArray grad = grads == null ? Gradients.of(e.getValue()) : grads.get(e.getKey());
            if (grad != null) {
                stepped.put(e.getKey(), grad);
            }
        }
        if (stepped.isEmpty()) {
            return null;
        }
        if (layout == null || !layout.matches(stepped.keySet(), params)) {
            relayout(params, stepped);
        }
        return layout.gather(stepped);
    }

    /**
     * One optimizer step from the flat gradient {@link #gatherGradients} returned last (clipped or
     * unscaled in place since, if need be). Overwrites {@code flatGrads}.
     */
    public void step(NDArray flatGrads, double lr) {
        if (layout == null || flatGrads.size() != layout.total) {
            throw new IllegalArgumentException("AdamW: a flat gradient of " + flatGrads.size()
                    + " elements does not match the parameters last gathered by gatherGradients");
        }
        closeStateViews();
        step++;
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning(); // closes this block's temporaries
            update(flatGrads, lr);
        }
    }

    /** The flat update, in the per-parameter loop's op order; g is [P] fp32 and ours to overwrite. */
    private void update(NDArray g, double lr) { // g: [P]
        double bias1 = 1 - Math.pow(config.beta1(), step);
        double bias2Sqrt = Math.sqrt(1 - Math.pow(config.beta2(), step));
        // the step's scalar operands, made once on the parameters' device: a Java number operand would be
        // copied to the device at every use
        NDManager scalars = g.getManager();
        NDArray beta1 = scalars.create((float) config.beta1());
        NDArray oneMinusBeta1 = scalars.create((float) (1 - config.beta1()));
        NDArray beta2 = scalars.create((float) config.beta2());
        NDArray oneMinusBeta2 = scalars.create((float) (1 - config.beta2()));
        NDArray bias2 = scalars.create((float) bias2Sqrt);
        NDArray eps = scalars.create((float) config.eps());
        NDArray stepSize = scalars.create((float) (lr / bias1));

        NDArray weight = layout.gatherWeights(); // [P] a copy of the parameters
        if (config.weightDecay() != 0 && layout.decayed > 0) {
            NDArray decay = scalars.create((float) (1 - lr * config.weightDecay()));
            NDArray decayed = layout.decayed == layout.total
                    ? weight
                    : weight.get(new NDIndex().addSliceDim(0, layout.decayed)); // [decayed] a view
            decayed.muli(decay);
        }
        try (NDArray sq = g.square()) {
            expAvgSq.muli(beta2).addi(sq.muli(oneMinusBeta2));
        }
        expAvg.muli(beta1).addi(g.muli(oneMinusBeta1));
        NDArray denom = expAvgSq.sqrt().divi(bias2).addi(eps);
        try (NDArray delta = expAvg.div(denom).muli(stepSize)) {
            denom.close();
            weight.subi(delta);
        }
        layout.scatterWeights(weight);
    }

    /**
     * Steps taken so far. One count for all parameters (torch keeps one per parameter; they differ
     * only for a parameter that first receives a gradient after step 1).
     */
    public long stepCount() {
        return step;
    }

    /**
     * The state for checkpointing: step count and the moments by parameter name, as views of the
     * optimizer's own buffers (do not close or modify them); read them before the next {@link #step}.
     */
    public AdamWState state() {
        closeStateViews();
        stateViews = manager.newSubManager();
        Map<String, NDArray> m = new LinkedHashMap<>(parkedAvg);
        Map<String, NDArray> v = new LinkedHashMap<>(parkedAvgSq);
        if (layout != null) {
            m.putAll(layout.split(expAvg, stateViews));
            v.putAll(layout.split(expAvgSq, stateViews));
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
        closeAll();
        parkedAvg.putAll(m);
        parkedAvgSq.putAll(v);
        step = saved.step();
    }

    @Override
    public void close() {
        closeAll();
        manager.close();
    }

    /**
     * Lays out the parameters stepped now (decayed first, each group in map order) and packs their
     * moments into flat buffers: the existing ones, zeros for parameters stepped for the first time.
     * Moments of parameters that left the layout are parked per parameter.
     */
    private void relayout(Map<String, NDArray> params, Map<String, NDArray> stepped) {
        if (layout != null) {
            for (Map.Entry<String, NDArray> e : layout.split(expAvg, manager).entrySet()) {
                parkedAvg.put(e.getKey(), own(e.getValue()));
            }
            for (Map.Entry<String, NDArray> e : layout.split(expAvgSq, manager).entrySet()) {
                parkedAvgSq.put(e.getKey(), own(e.getValue()));
            }
            layout.close();
            expAvg.close();
            expAvgSq.close();
        }
        layout = new FlatLayout(params, stepped.keySet(), manager);
        expAvg = pack(parkedAvg);
        expAvgSq = pack(parkedAvgSq);
    }

    /** The moments of the layout's parameters as one flat buffer; removes them from {@code parked}. */
    private NDArray pack(Map<String, NDArray> parked) {
        NDList parts = new NDList();
        try (NDManager tmp = manager.newSubManager()) {
            for (int i = 0; i < layout.names.size(); i++) {
                NDArray p = layout.params.get(i);
                NDArray saved = parked.remove(layout.names.get(i));
                NDArray part = saved != null ? saved : tmp.zeros(p.getShape(), DataType.FLOAT32, p.getDevice());
                if (saved != null) {
                    saved.attach(tmp); // closed with tmp
                }
                parts.add(part.reshape(-1));
            }
            NDArray flat = NDArrays.concat(parts);
            return own(flat);
        }
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

    private void closeStateViews() {
        if (stateViews != null) {
            stateViews.close();
            stateViews = null;
        }
    }

    private void closeAll() {
        closeStateViews();
        parkedAvg.values().forEach(NDArray::close);
        parkedAvgSq.values().forEach(NDArray::close);
        parkedAvg.clear();
        parkedAvgSq.clear();
        if (layout != null) {
            layout.close();
            expAvg.close();
            expAvgSq.close();
            layout = null;
            expAvg = null;
            expAvgSq = null;
        }
    }

    /**
     * Where each stepped parameter sits in the flat buffers: decayed parameters first, then the
     * others, each group in the parameters' map order; plus a flat, detached view of each parameter
     * (same storage) through which a step reads and writes it.
     */
    private final class FlatLayout implements AutoCloseable {
        final List<String> names = new ArrayList<>();
        final List<String> mapOrder = new ArrayList<>(); // the same names in the parameters' map order
        final List<NDArray> params = new ArrayList<>(); // the parameter arrays, for identity checks
        final List<NDArray> flatWeights = new ArrayList<>(); // [size_i] detached views of the parameters
        final long[] splits; // start offsets of parameters 1..n-1 in the flat buffers
        final long decayed; // elements of decayed parameters (the buffers' first part)
        final long total;
        final NDManager views;

        FlatLayout(Map<String, NDArray> all, Set<String> stepped, NDManager parent) {
            views = parent.newSubManager();
            all.keySet().stream().filter(stepped::contains).forEach(mapOrder::add);
            for (boolean decayGroup : new boolean[] {true, false}) {
                for (Map.Entry<String, NDArray> e : all.entrySet()) {
                    if (stepped.contains(e.getKey()) && (decays(e.getValue()) == decayGroup)) {
                        names.add(e.getKey());
                        params.add(e.getValue());
                    }
                }
            }
            splits = new long[names.size() - 1];
            long offset = 0;
            long decayedSize = 0;
            for (int i = 0; i < params.size(); i++) {
                NDArray p = params.get(i);
                try (NDArray detached = p.stopGradient()) { // same storage, outside autograd
                    NDArray flat = detached.reshape(-1); // [size_i] a view
                    flat.attach(views);
                    NDScope.unregister(flat);
                    flatWeights.add(flat);
                }
                if (i > 0) {
                    splits[i - 1] = offset;
                }
                offset += p.size();
                if (decays(p)) {
                    decayedSize += p.size();
                }
            }
            total = offset;
            decayed = decayedSize;
        }

        /** Whether a step over these parameters can reuse this layout. */
        boolean matches(Set<String> stepped, Map<String, NDArray> all) {
            if (stepped.size() != names.size()) {
                return false;
            }
            for (int i = 0; i < names.size(); i++) {
                if (!stepped.contains(names.get(i)) || all.get(names.get(i)) != params.get(i)) {
                    return false;
                }
            }
            return true;
        }

        /** The gradients as one flat fp32 buffer [P], a new array. */
        NDArray gather(Map<String, NDArray> grads) {
            NDList parts = new NDList(names.size());
            for (String name : names) {
                NDArray g = grads.get(name);
                NDArray g32 = g.getDataType() == DataType.FLOAT32 ? g : g.toType(DataType.FLOAT32, false);
                parts.add(g32.reshape(-1));
            }
            return NDArrays.concat(parts);
        }

        /** The parameters as one flat buffer [P], a copy. */
        NDArray gatherWeights() {
            return NDArrays.concat(new NDList(flatWeights));
        }

        /** Writes a flat buffer [P] back into the parameters, in place. */
        void scatterWeights(NDArray flat) {
            NDList parts = names.size() == 1 ? new NDList(flat) : flat.split(splits);
            for (int i = 0; i < parts.size(); i++) {
                flatWeights.get(i).set(ALL, parts.get(i));
            }
        }

        /**
         * A flat buffer's slices shaped like their parameters (views), by name in the parameters' map
         * order, attached to {@code target}.
         */
        Map<String, NDArray> split(NDArray flat, NDManager target) {
            Map<String, NDArray> byName = new LinkedHashMap<>();
            try (NDManager tmp = manager.newSubManager()) {
                NDList parts = names.size() == 1 ? new NDList(flat.reshape(-1)) : flat.split(splits);
                parts.attach(tmp); // the 1-D views, closed here
                for (int i = 0; i < parts.size(); i++) {
                    NDArray part = parts.get(i).reshape(params.get(i).getShape());
                    part.attach(target);
                    NDScope.unregister(part);
                    byName.put(names.get(i), part);
                }
            }
            Map<String, NDArray> out = new LinkedHashMap<>();
            for (String name : mapOrder) {
                out.put(name, byName.get(name));
            }
            return out;
        }

        @Override
        public void close() {
            views.close();
        }
    }
}
