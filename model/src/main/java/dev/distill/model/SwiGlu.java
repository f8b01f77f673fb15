package dev.distill.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * The MLP's gated activation, silu(gate) * up, as one libtorch call (a {@link TorchScriptModule},
 * loaded once per manager's device) on the fused gate/up projection; DJL's JNI has no silu, which
 * took a split, a sigmoid and two multiplies. Autograd records the ops inside (silu's own backward).
 */
final class SwiGlu implements AutoCloseable {
    /** TorchScript source: what torch.jit.script(...).code prints for the module. */
    private static final String SOURCE =
            """
            class SwiGlu(Module):
              __parameters__ = []
              __buffers__ = []
              training : bool
              def forward(self: __torch__.SwiGlu,
                gateAndUp: Tensor) -> Tensor:
                gate, up, = torch.chunk(gateAndUp, 2, -1)
                return torch.mul(torch.silu(gate), up)
            """;

    private final TorchScriptModule module;

    SwiGlu(NDManager manager) {
        module = new TorchScriptModule("SwiGlu", SOURCE, manager);
    }

    /** gateAndUp [.., 2I] (gate then up) -> silu(gate) * up [.., I], attached to the input's manager */
    NDArray apply(NDArray gateAndUp) {
        return module.forward(gateAndUp);
    }

    @Override
    public void close() {
        module.close();
    }
}
