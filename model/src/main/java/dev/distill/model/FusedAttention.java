package dev.distill.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * libtorch's fused {@code scaled_dot_product_attention} (flash / memory-efficient kernels: no
 * [B, H, T, S] scores in memory, softmax in float32 inside the kernel), which DJL's JNI does not
 * expose as an op: a {@link TorchScriptModule} calling it, loaded once per manager's device.
 */
final class FusedAttention implements AutoCloseable {
    /** TorchScript source: what torch.jit.script(...).code prints for the module. */
    private static final String SOURCE =
            """
            class Sdpa(Module):
              __parameters__ = []
              __buffers__ = []
              training : bool
              def forward(self: __torch__.Sdpa,
                q: Tensor,
                k: Tensor,
                v: Tensor,
                mask: Tensor) -> Tensor:
                return torch.scaled_dot_product_attention(q, k, v, mask, 0., False, scale=None, enable_gqa=False)
            """;

    private final TorchScriptModule module;

    FusedAttention(NDManager manager) {
        module = new TorchScriptModule("Sdpa", SOURCE, manager);
    }

    /**
     * softmax(q k^T / sqrt(D) + mask) v. q [B, N, L, D], k and v [B, N, S, D], mask [B, 1, L, S] in
     * q's dtype (additive) -> [B, N, L, D]. Records autograd while gradients are recorded.
     */
    NDArray apply(NDArray q, NDArray k, NDArray v, NDArray mask) {
        return module.forward(q, k, v, mask); // attached to q's manager
    }

    @Override
    public void close() {
        module.close();
    }
}
