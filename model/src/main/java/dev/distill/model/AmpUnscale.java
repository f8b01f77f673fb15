package dev.distill.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.IValue;
import java.util.List;

/**
 * {@code torch.amp.GradScaler}'s unscale in one libtorch call: {@code torch._amp_foreach_non_finite_check_and_unscale_}
 * (a {@link TorchScriptModule}; DJL's JNI lacks it) multiplies every gradient in place by a float32 inverse scale and
 * flags any inf or NaN among them.
 */
public final class AmpUnscale implements AutoCloseable {
    /** TorchScript source: what torch.jit.script(...).code prints for the module. */
    private static final String SOURCE =
            """
            class AmpUnscale(Module):
              __parameters__ = []
              __buffers__ = []
              training : bool
              def forward(self: __torch__.AmpUnscale,
                grads: List[Tensor],
                inv_scale: float) -> Tensor:
                found_inf = torch.zeros([1], dtype=6, layout=None, device=ops.prim.device(grads[0]))
                inv = torch.full([1], inv_scale, dtype=6, layout=None, device=ops.prim.device(grads[0]))
                torch._amp_foreach_non_finite_check_and_unscale_(grads, found_inf, inv)
                return found_inf
            """;

    private final TorchScriptModule module;

    /** Loads the module on {@code manager}'s device; close it with (or before) the manager. */
    public AmpUnscale(NDManager manager) {
        module = new TorchScriptModule("AmpUnscale", SOURCE, manager);
    }

    /**
     * Multiplies every gradient by {@code inverseScale} (as float32) in place.
     *
     * @param grads at least one floating tensor, all on one device
     * @return whether all of them are finite (one host read)
     */
    public boolean unscale(List<NDArray> grads, double inverseScale) {
        try (NDArray found = module.forward(
                grads.get(0).getManager(), TorchScriptModule.tensors(grads), IValue.from(inverseScale))) {
            return found.toFloatArray()[0] == 0f;
        }
    }

    @Override
    public void close() {
        module.close();
    }
}
