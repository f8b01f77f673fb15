package dev.distill.trainer;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import dev.distill.model.CausalLM;
import dev.distill.trainer.TrainOptions.Precision;
import dev.distill.trainer.optim.Gradients;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The student under training: fp32 master weights (what the optimizer updates and checkpoints save)
 * and the model that runs forward and backward. In fp32 they are one model. In fp16 the forward
 * model is a half-precision copy whose gradients are widened to fp32 for the update, after which the
 * master weights are copied back into it, so updates smaller than fp16's resolution are not lost.
 */
final class StudentWeights implements AutoCloseable {
    private static final NDIndex ALL = new NDIndex("...");

    private final CausalLM master;
    private final CausalLM forward;
    private final Map<String, NDArray> masterParams;
    private final Map<String, NDArray> forwardParams;

    private StudentWeights(CausalLM master, CausalLM forward) {
        this.master = master;
        this.forward = forward;
        this.masterParams = master.parameters();
        this.forwardParams = forward.parameters();
        forwardParams.values().forEach(p -> p.setRequiresGradient(true));
    }

    /** Loads a model directory as fp32 master weights, plus an fp16 forward copy for {@link Precision#FP16}. */
    static StudentWeights load(Path modelDir, Precision precision, Device device) {
        CausalLM master = CausalLM.load(modelDir, DataType.FLOAT32, device);
        if (precision == Precision.FP32) {
            return new StudentWeights(master, master);
        }
        try {
            StudentWeights w = new StudentWeights(master, CausalLM.load(modelDir, DataType.FLOAT16, device));
            w.copyMasterToForward();
            return w;
        } catch (RuntimeException e) {
            master.close();
            throw e;
        }
    }

    /** The fp32 weights: updated by the optimizer, saved in checkpoints. */
    CausalLM master() {
        return master;
    }

    /** The model that runs the forward and backward passes. */
    CausalLM forward() {
        return forward;
    }

    /** The fp32 master parameters by name. */
    Map<String, NDArray> masterParameters() {
        return masterParams;
    }

    /**
     * The fp32 gradients accumulated by this step's backward passes, by parameter name (parameters no
     * backward reached are absent). New arrays or views: close them with the step's scope. Clipping and
     * unscaling them in place is seen by the optimizer step that takes this map.
     */
    Map<String, NDArray> gradients() {
        Map<String, NDArray> out = Gradients.of(forwardParams);
        out.replaceAll((name, g) -> g.getDataType() == DataType.FLOAT32 ? g : g.toType(DataType.FLOAT32, false));
        return out;
    }

    /**
     * The parameters no backward pass reached, in layout order: all of them train unless the forward
     * pass cuts the autograd graph somewhere (DJL's toType detaches).
     */
    List<String> withoutGradient(Map<String, NDArray> gradients) {
        return forwardParams.keySet().stream()
                .filter(name -> !gradients.containsKey(name))
                .toList();
    }

    /** After an optimizer step: makes the forward copy equal to the updated master weights (fp16 only). */
    void afterUpdate() {
        if (forward != master) {
            copyMasterToForward();
        }
    }

    /** Sets every accumulated gradient to 0 (also clears inf/NaN from an overflowed fp16 step). */
    void zeroGradients() {
        Gradients.zero(forwardParams);
    }

    private void copyMasterToForward() {
        for (Map.Entry<String, NDArray> e : masterParams.entrySet()) {
            try (NDArray half = e.getValue().toType(DataType.FLOAT16, false); // like the parameter
                    NDArray target = forwardParams.get(e.getKey()).stopGradient()) { // same storage, no autograd
                target.set(ALL, half);
            }
        }
    }

    @Override
    public void close() {
        if (forward != master) {
            forward.close();
        }
        master.close();
    }
}
