package dev.distill.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.IValue;
import java.util.List;

/**
 * One decoder layer's decode step (one new position per row, KV cache, fused attention) as one libtorch call: a
 * {@link TorchScriptModule} running the ops {@link DecoderLayer#forward} would issue one by one through DJL (RMSNorm,
 * q/k/v projection, rotary embedding, cache write, scaled-dot-product attention, output projection, residual,
 * RMSNorm, gate/up projection, SiLU gate, down projection, residual), in the same order on the same operands, so the
 * result is the same to the bit. On a CPU each call through DJL costs a JNI crossing and a Java NDArray; a layer's
 * step was 24 of them. Inference only (no autograd).
 */
final class DecodeStep implements AutoCloseable {
    /**
     * TorchScript source: what torch.jit.script(...).code prints for tools/scripts/decode_step_source.py's
     * module, with silu and the attention call written out as libtorch ops (as in {@link SwiGlu} and
     * {@link FusedAttention}). weights: input norm [H], qkv [H, (Hq+2Hkv)D], o [Hq*D, H], post norm [H],
     * gate/up [H, 2I], down [I, H] (the projections as [in, out] views), then the qkv bias if the model has one,
     * then (qk_norm, qwen3) the per-head q/k RMSNorm's q_norm [D] and k_norm [D], applied to the q and k heads
     * before the rotary embedding with the weight [Hq+Hkv, D] {@link DecoderLayer}'s op-by-op path uses.
     */
    private static final String SOURCE =
            """
            class DecodeStep(Module):
              __parameters__ = []
              __buffers__ = []
              training : bool
              def forward(self: __torch__.DecodeStep,
                x: Tensor,
                weights: List[Tensor],
                cos: Tensor,
                sin: Tensor,
                cache: Tensor,
                bias: Tensor,
                eps: Tensor,
                past: int,
                heads: int,
                kv_heads: int,
                qk_norm: bool) -> Tensor:
                b = torch.size(x, 0)
                d = torch.size(cache, 3)
                rows = torch.add(heads, torch.mul(2, kv_heads))
                xf = torch.to(x, 6)
                _0 = torch.mean(torch.pow(xf, 2), [-1], True)
                xf0 = torch.mul(xf, torch.rsqrt(torch.add(_0, eps)))
                _1 = torch.mul(weights[0], torch.to(xf0, ops.prim.dtype(x)))
                proj = torch.matmul(_1, weights[1])
                if torch.gt(torch.len(weights), torch.add(6, torch.mul(2, int(qk_norm)))):
                  proj0 = torch.add(proj, weights[6])
                else:
                  proj0 = proj
                if qk_norm:
                  per_head = torch.reshape(proj0, [b, 1, rows, d])
                  qk = torch.narrow(per_head, 2, 0, torch.add(heads, kv_heads))
                  qkf = torch.to(qk, 6)
                  _15 = torch.mean(torch.pow(qkf, 2), [-1], True)
                  qkf0 = torch.mul(qkf, torch.rsqrt(torch.add(_15, eps)))
                  _16 = [torch.expand(weights[-2], [heads, d]), torch.expand(weights[-1], [kv_heads, d])]
                  qkn = torch.mul(torch.cat(_16, 0), torch.to(qkf0, ops.prim.dtype(qk)))
                  v = torch.narrow(per_head, 2, torch.add(heads, kv_heads), kv_heads)
                  proj1 = torch.cat([qkn, v], 2)
                else:
                  proj1 = proj0
                halves = torch.reshape(proj1, [b, 1, rows, 2, torch.floordiv(d, 2)])
                _2 = torch.mul(halves, cos)
                _3 = torch.mul(torch.flip(halves, [3]), sin)
                rotated = torch.reshape(torch.add(_2, _3), [b, 1, rows, d])
                _4 = torch.narrow(rotated, 2, 0, heads)
                _5 = [b, kv_heads, torch.floordiv(heads, kv_heads), d]
                q = torch.reshape(_4, _5)
                _6 = torch.narrow(cache, 2, past, 1)
                _7 = torch.narrow(rotated, 2, heads, torch.mul(2, kv_heads))
                _8 = torch.copy_(_6, torch.transpose(_7, 1, 2))
                kv = torch.narrow(cache, 2, 0, torch.add(past, 1))
                _9 = torch.narrow(kv, 1, 0, kv_heads)
                _10 = torch.narrow(kv, 1, kv_heads, kv_heads)
                context = torch.scaled_dot_product_attention(q, _9, _10, bias, 0., False, scale=None, enable_gqa=False)
                _11 = torch.reshape(context, [b, 1, torch.mul(heads, d)])
                x0 = torch.add(x, torch.matmul(_11, weights[2]))
                xf1 = torch.to(x0, 6)
                _12 = torch.mean(torch.pow(xf1, 2), [-1], True)
                xf2 = torch.mul(xf1, torch.rsqrt(torch.add(_12, eps)))
                _13 = torch.mul(weights[3], torch.to(xf2, ops.prim.dtype(x0)))
                _14 = torch.chunk(torch.matmul(_13, weights[4]), 2, -1)
                gate, up, = _14
                _16 = torch.matmul(torch.mul(torch.silu(gate), up), weights[5])
                return torch.add(x0, _16)
            """;

    private final TorchScriptModule module;
    private final NDArray eps;

    /** {@code eps}: the RMSNorm epsilon, a 0-dim float32 array on the manager's device. */
    DecodeStep(NDManager manager, NDArray eps) {
        module = new TorchScriptModule("DecodeStep", SOURCE, manager);
        this.eps = eps;
    }

    /**
     * x [B, 1, H] -> [B, 1, H], attached to x's manager; writes the layer's new keys and values into slot
     * {@code past} of {@code cache} [B, 2Hkv, capacity, D] and attends over slots [0, past]. {@code weights} as
     * {@link #SOURCE} lists them; {@code cos} and {@code sin} [B, 1, Hq+2Hkv, 2, D/2] (the per-head decode tables of
     * {@link RotaryTables.Rotation}); {@code bias} [B, 1, 1, past + 1] additive, in the model dtype; {@code qkNorm}:
     * the last two weights are q_norm and k_norm.
     */
    NDArray apply(
            NDArray x,
            NDArray[] weights,
            NDArray cos,
            NDArray sin,
            NDArray cache,
            NDArray bias,
            int past,
            int heads,
            int kvHeads,
            boolean qkNorm) {
        return module.forward(
                x.getManager(),
                IValue.from((PtNDArray) x),
                TorchScriptModule.tensors(List.of(weights)),
                IValue.from((PtNDArray) cos),
                IValue.from((PtNDArray) sin),
                IValue.from((PtNDArray) cache),
                IValue.from((PtNDArray) bias),
                IValue.from((PtNDArray) eps),
                IValue.from((long) past),
                IValue.from((long) heads),
                IValue.from((long) kvHeads),
                IValue.from(qkNorm));
    }

    @Override
    public void close() {
        module.close();
    }
}
