package dev.distill.trainer.optim;

import ai.djl.ndarray.NDArray;
import dev.distill.model.Ops;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The gradients PyTorch accumulates on parameters across backward passes: read them as views that
 * share storage (in-place ops change the parameter's gradient), and zero them between optimizer steps.
 */
public final class Gradients {
    private Gradients() {}

    /**
     * The gradient accumulated on {@code param}, or null when it takes none or no backward pass has
     * reached it yet (DJL's own getGradient() would invent an unrelated zeros array). The returned
     * array is a new handle on the same storage, attached to the parameter's manager: close it (or
     * open an {@link ai.djl.ndarray.NDScope}) when done.
     */
    public static NDArray of(NDArray param) {
        return Ops.gradient(param);
    }

    /** The gradients of the parameters that have one, by name in map order (see {@link #of(NDArray)}). */
    public static Map<String, NDArray> of(Map<String, NDArray> params) {
        Map<String, NDArray> grads = new LinkedHashMap<>();
        params.forEach((name, p) -> {
            NDArray g = of(p);
            if (g != null) {
                grads.put(name, g);
            }
        });
        return grads;
    }

    /**
     * Sets every accumulated gradient to exactly 0 in place, without autograd; unlike
     * {@code g.subi(g)} or {@code g.muli(0)} this also clears inf and NaN.
     */
    public static void zero(Map<String, NDArray> params) {
        for (NDArray p : params.values()) {
            Ops.zeroGradient(p);
        }
    }
}
