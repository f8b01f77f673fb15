package dev.distill.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.IValue;
import java.util.List;

/**
 * {@code torch.nn.utils.clip_grad_norm_} in one libtorch call (a {@link TorchScriptModule}): the fp32 L2 norm of
 * each tensor, the norm of those norms, and, when it is finite and over the limit, every tensor multiplied in place by
 * {@code max_norm / (norm + 1e-6)} (one float32 coefficient, as torch computes it).
 */
public final class ClipGradNorm implements AutoCloseable {
    /** TorchScript source: what torch.jit.script(...).code prints for the module. */
    private static final String SOURCE =
            """
            class ClipGradNorm(Module):
              __parameters__ = []
              __buffers__ = []
              training : bool
              def forward(self: __torch__.ClipGradNorm,
                grads: List[Tensor],
                max_norm: float) -> Tensor:
                norms = annotate(List[Tensor], [])
                for _0 in range(torch.len(grads)):
                  g = grads[_0]
                  _1 = torch.linalg_vector_norm(g, 2., None, False, dtype=6)
                  _2 = torch.append(norms, _1)
                total = torch.linalg_vector_norm(torch.stack(norms), 2.)
                _3 = torch.add(total, 9.9999999999999995e-07)
                coef = torch.mul(torch.reciprocal(_3), max_norm)
                if bool(torch.isfinite(total)):
                  _4 = bool(torch.lt(coef, 1.))
                else:
                  _4 = False
                if _4:
                  torch._foreach_mul_(grads, coef)
                else:
                  pass
                return total
            """;

    private final TorchScriptModule module;

    /** Loads the module on {@code manager}'s device; close it with (or before) the manager. */
    public ClipGradNorm(NDManager manager) {
        module = new TorchScriptModule("ClipGradNorm", SOURCE, manager);
    }

    /**
     * Measures the global L2 norm of {@code grads} and clips them in place to {@code maxNorm} (a non-finite norm
     * leaves them untouched).
     *
     * @param grads at least one tensor, all on one device
     * @return the norm before clipping, read to the host
     */
    public float clip(List<NDArray> grads, double maxNorm) {
        try (NDArray norm =
                module.forward(grads.get(0).getManager(), TorchScriptModule.tensors(grads), IValue.from(maxNorm))) {
            return norm.getFloat();
        }
    }

    @Override
    public void close() {
        module.close();
    }
}
