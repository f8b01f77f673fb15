package dev.distill.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * transformers' LlamaRMSNorm as one libtorch call (a {@link TorchScriptModule}, loaded once per
 * manager's device) instead of six through DJL: in float32, x * rsqrt(mean(x^2) + eps), cast back
 * to x's dtype, times the weight, in transformers' op order. Autograd records the ops inside.
 */
final class RmsNorm implements AutoCloseable {
    /** TorchScript source: what torch.jit.script(...).code prints for the module (6 is torch.float32). */
    private static final String SOURCE =
            """
            class RmsNorm(Module):
              __parameters__ = []
              __buffers__ = []
              training : bool
              def forward(self: __torch__.RmsNorm,
                x: Tensor,
                weight: Tensor,
                eps: Tensor) -> Tensor:
                xf = torch.to(x, 6)
                variance = torch.mean(torch.pow(xf, 2), [-1], True)
                xf0 = torch.mul(xf, torch.rsqrt(torch.add(variance, eps)))
                return torch.mul(weight, torch.to(xf0, ops.prim.dtype(x)))
            """;

    private final TorchScriptModule module;
    private final NDArray eps;

    /** {@code eps}: a 0-dim float32 array on the manager's device. */
    RmsNorm(NDManager manager, NDArray eps) {
        module = new TorchScriptModule("RmsNorm", SOURCE, manager);
        this.eps = eps;
    }

    /** x [.., H] in any float dtype, weight [H] (or broadcastable) in x's dtype -> [.., H], attached to x's manager */
    NDArray apply(NDArray x, NDArray weight) {
        return module.forward(x, weight, eps);
    }

    @Override
    public void close() {
        module.close();
    }
}
