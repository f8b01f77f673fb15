package dev.distill.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.IValue;
import java.util.List;

/**
 * AdamW's update of a group of tensors in one libtorch call: {@code torch._fused_adamw_} (what
 * {@code torch.optim.AdamW(fused=True)} runs; DJL's JNI lacks it) in a {@link TorchScriptModule}. Each element is
 * read and written once (parameter, gradient, both moments), with no temporaries; the math is torch's AdamW: decoupled
 * decay {@code p *= 1 - lr * wd}, moments by lerp and {@code beta2 * v + (1 - beta2) * g^2}, {@code p -= lr /
 * (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)}.
 */
public final class FusedAdamW implements AutoCloseable {
    /** TorchScript source: what torch.jit.script(...).code prints for the module. */
    private static final String SOURCE =
            """
            class FusedAdamW(Module):
              __parameters__ = []
              __buffers__ = []
              training : bool
              def forward(self: __torch__.FusedAdamW,
                params: List[Tensor],
                grads: List[Tensor],
                exp_avgs: List[Tensor],
                exp_avg_sqs: List[Tensor],
                step: float,
                lr: float,
                beta1: float,
                beta2: float,
                weight_decay: float,
                eps: float) -> Tensor:
                _0 = "AdamW: a parameter or its gradient is not contiguous"
                s = torch.full([1], step, dtype=6, layout=None, device=ops.prim.device(params[0]))
                steps = annotate(List[Tensor], [])
                for i in range(torch.len(params)):
                  if torch.is_contiguous(params[i]):
                    _1 = torch.is_contiguous(grads[i])
                  else:
                    _1 = False
                  if torch.__not__(_1):
                    ops.prim.RaiseException(_0, "builtins.ValueError")
                  else:
                    pass
                  _2 = torch.append(steps, s)
                torch._fused_adamw_(params, grads, exp_avgs, exp_avg_sqs, annotate(List[Tensor], []), steps, lr=lr, beta1=beta1, beta2=beta2, weight_decay=weight_decay, eps=eps, amsgrad=False, maximize=False)
                return s
            """;

    private final TorchScriptModule module;

    /** Loads the module on {@code manager}'s device; close it with (or before) the manager. */
    public FusedAdamW(NDManager manager) {
        module = new TorchScriptModule("FusedAdamW", SOURCE, manager);
    }

    /**
     * One AdamW step of every tensor of the group, in place. All lists are as long as {@code params}, element i of
     * each shaped like parameter i, all of one floating dtype on one device (the kernel walks each tensor's memory in
     * order: a non-contiguous parameter or gradient is refused).
     *
     * @param params the parameters, outside autograd (e.g. {@code stopGradient()} views of leaves), contiguous
     * @param grads their gradients, contiguous
     * @param expAvgs the first moments
     * @param expAvgSqs the second moments
     * @param step this step's number, from 1 (bias correction)
     */
    public void step(
            List<NDArray> params,
            List<NDArray> grads,
            List<NDArray> expAvgs,
            List<NDArray> expAvgSqs,
            long step,
            double lr,
            double beta1,
            double beta2,
            double weightDecay,
            double eps) {
        if (params.isEmpty()) {
            return;
        }
        NDManager manager = params.get(0).getManager();
        NDArray steps = module.forward(
                manager,
                TorchScriptModule.tensors(params),
                TorchScriptModule.tensors(grads),
                TorchScriptModule.tensors(expAvgs),
                TorchScriptModule.tensors(expAvgSqs),
                IValue.from((double) step),
                IValue.from(lr),
                IValue.from(beta1),
                IValue.from(beta2),
                IValue.from(weightDecay),
                IValue.from(eps));
        steps.close();
    }

    @Override
    public void close() {
        module.close();
    }
}
