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
 * step was 24 of them. {@link #applyStack} runs every layer and the final RMSNorm in one call ({@link
 * CausalLM#decode}); {@link #apply} one layer (a T = 1 forward with a cache, {@link DecoderLayer#forward}). Inference
 * only (no autograd).
 */
final class DecodeStep implements AutoCloseable {
    /**
     * TorchScript source: what torch.jit.script(...).code prints for tools/scripts/decode_step_source.py's
     * module, with silu and the attention call written out as libtorch ops (as in {@link SwiGlu} and
     * {@link FusedAttention}). weights: input norm [H], qkv [H, (Hq+2Hkv)D], o [Hq*D, H], post norm [H],
     * gate/up [H, 2I], down [I, H] (the projections as [in, out] views, or with {@code packed} as
     * {@link OneDnnLinear} packed them, multiplied by its op with the qkv bias inside as {@link Linear} does), then
     * the qkv bias if the model has one,
     * then (qk_norm, qwen3) the per-head q/k RMSNorm's q_norm [D] and k_norm [D], applied to the q and k heads
     * before the rotary embedding with the weight [Hq+Hkv, D] {@link DecoderLayer}'s op-by-op path uses.
     * decode_stack: forward for each layer i on slice i of the weights (every layer's, one after another) and
     * caches[i], then the final RMSNorm with norm [H] (the ops of {@link RmsNorm}).
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
                qk_norm: bool,
                packed: bool) -> Tensor:
                b = torch.size(x, 0)
                d = torch.size(cache, 3)
                rows = torch.add(heads, torch.mul(2, kv_heads))
                _0 = torch.len(weights)
                _1 = torch.add(6, torch.mul(2, int(qk_norm)))
                has_bias = torch.gt(_0, _1)
                xf = torch.to(x, 6)
                _2 = torch.mean(torch.pow(xf, 2), [-1], True)
                xf0 = torch.mul(xf, torch.rsqrt(torch.add(_2, eps)))
                h = torch.mul(weights[0], torch.to(xf0, ops.prim.dtype(x)))
                if packed:
                  if has_bias:
                    qkv_bias : Optional[Tensor] = weights[6]
                  else:
                    qkv_bias = None
                  _3 = weights[1]
                  _4 = annotate(List[Optional[number]], [])
                  proj0 = ops.mkldnn._linear_pointwise(h, _3, qkv_bias, "none", _4, "")
                  proj = proj0
                else:
                  proj1 = torch.matmul(h, weights[1])
                  if has_bias:
                    proj2 = torch.add(proj1, weights[6])
                  else:
                    proj2 = proj1
                  proj = proj2
                if qk_norm:
                  per_head = torch.reshape(proj, [b, 1, rows, d])
                  qk = torch.narrow(per_head, 2, 0, torch.add(heads, kv_heads))
                  qkf = torch.to(qk, 6)
                  _5 = torch.mean(torch.pow(qkf, 2), [-1], True)
                  qkf0 = torch.mul(qkf, torch.rsqrt(torch.add(_5, eps)))
                  _6 = torch.expand(weights[-2], [heads, d])
                  _7 = torch.expand(weights[-1], [kv_heads, d])
                  qkn = torch.mul(torch.cat([_6, _7]), torch.to(qkf0, ops.prim.dtype(qk)))
                  _8 = torch.narrow(per_head, 2, torch.add(heads, kv_heads), kv_heads)
                  proj3 = torch.cat([qkn, _8], 2)
                else:
                  proj3 = proj
                halves = torch.reshape(proj3, [b, 1, rows, 2, torch.floordiv(d, 2)])
                _9 = torch.mul(halves, cos)
                _10 = torch.mul(torch.flip(halves, [3]), sin)
                rotated = torch.reshape(torch.add(_9, _10), [b, 1, rows, d])
                _11 = torch.narrow(rotated, 2, 0, heads)
                _12 = [b, kv_heads, torch.floordiv(heads, kv_heads), d]
                q = torch.reshape(_11, _12)
                _13 = torch.narrow(cache, 2, past, 1)
                _14 = torch.narrow(rotated, 2, heads, torch.mul(2, kv_heads))
                _15 = torch.copy_(_13, torch.transpose(_14, 1, 2))
                kv = torch.narrow(cache, 2, 0, torch.add(past, 1))
                _16 = torch.narrow(kv, 1, 0, kv_heads)
                _17 = torch.narrow(kv, 1, kv_heads, kv_heads)
                context = torch.scaled_dot_product_attention(q, _16, _17, bias, 0., False, scale=None, enable_gqa=False)
                context0 = torch.reshape(context, [b, 1, torch.mul(heads, d)])
                if packed:
                  _18 = weights[2]
                  _19 = annotate(List[Optional[number]], [])
                  _20 = ops.mkldnn._linear_pointwise(context0, _18, None, "none", _19, "")
                  x0 = torch.add(x, _20)
                else:
                  x1 = torch.add(x, torch.matmul(context0, weights[2]))
                  x0 = x1
                xf1 = torch.to(x0, 6)
                _21 = torch.mean(torch.pow(xf1, 2), [-1], True)
                xf2 = torch.mul(xf1, torch.rsqrt(torch.add(_21, eps)))
                h0 = torch.mul(weights[3], torch.to(xf2, ops.prim.dtype(x0)))
                if packed:
                  _23 = weights[4]
                  _24 = annotate(List[Optional[number]], [])
                  _25 = ops.mkldnn._linear_pointwise(h0, _23, None, "none", _24, "")
                  gate, up, = torch.chunk(_25, 2, -1)
                  act = torch.mul(torch.silu(gate), up)
                  _27 = weights[5]
                  _28 = annotate(List[Optional[number]], [])
                  _29 = ops.mkldnn._linear_pointwise(act, _27, None, "none", _28, "")
                  _22 = torch.add(x0, _29)
                else:
                  _30 = torch.chunk(torch.matmul(h0, weights[4]), 2, -1)
                  gate0, up0, = _30
                  _32 = torch.matmul(torch.mul(torch.silu(gate0), up0), weights[5])
                  _22 = torch.add(x0, _32)
                return _22
              def decode_stack(self: __torch__.DecodeStep,
                x: Tensor,
                weights: List[Tensor],
                norm: Tensor,
                cos: Tensor,
                sin: Tensor,
                caches: List[Tensor],
                bias: Tensor,
                eps: Tensor,
                past: int,
                heads: int,
                kv_heads: int,
                qk_norm: bool,
                packed: bool) -> Tensor:
                n = torch.floordiv(torch.len(weights), torch.len(caches))
                x0 = x
                for i in range(torch.len(caches)):
                  _0 = torch.slice(weights, torch.mul(i, n), torch.mul(torch.add(i, 1), n))
                  x1 = (self).forward(x0, _0, cos, sin, caches[i], bias, eps, past, heads, kv_heads, qk_norm, packed, )
                  x0 = x1
                xf = torch.to(x0, 6)
                _1 = torch.mean(torch.pow(xf, 2), [-1], True)
                xf0 = torch.mul(xf, torch.rsqrt(torch.add(_1, eps)))
                return torch.mul(norm, torch.to(xf0, ops.prim.dtype(x0)))
            """;

    private final TorchScriptModule module;
    private final TorchScriptModule stack; // the same source, calling decode_stack
    private final NDArray eps;

    /** {@code eps}: the RMSNorm epsilon, a 0-dim float32 array on the manager's device. */
    DecodeStep(NDManager manager, NDArray eps) {
        module = new TorchScriptModule("DecodeStep", SOURCE, manager);
        try {
            stack = new TorchScriptModule("DecodeStep", "decode_stack", SOURCE, manager);
        } catch (RuntimeException e) {
            module.close();
            throw e;
        }
        this.eps = eps;
    }

    /**
     * The decoder stack's weights as one TorchScript list for {@link #applyStack}: each layer's weights as {@link
     * #apply} takes them, one layer after another (every layer lists the same number). Made once per model (again
     * after packing): it holds the tensors until closed.
     */
    static IValue stackWeights(List<NDArray[]> layers) {
        return TorchScriptModule.tensors(
                layers.stream().flatMap(java.util.Arrays::stream).toList());
    }

    /**
     * x [B, 1, H] -> [B, 1, H], attached to x's manager; writes the layer's new keys and values into slot
     * {@code past} of {@code cache} [B, 2Hkv, capacity, D] and attends over slots [0, past]. {@code weights} as
     * {@link #SOURCE} lists them; {@code cos} and {@code sin} [B, 1, Hq+2Hkv, 2, D/2] (the per-head decode tables of
     * {@link RotaryTables.Rotation}); {@code bias} [B, 1, 1, past + 1] additive, in the model dtype; {@code qkNorm}:
     * the last two weights are q_norm and k_norm; {@code packed}: the projections are packed weights.
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
            boolean qkNorm,
            boolean packed) {
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
                IValue.from(qkNorm),
                IValue.from(packed));
    }

    /**
     * A whole decode step's decoder stack as one call: {@link #apply} for every layer in turn (layer i on {@code
     * cache}'s buffer i), then the final RMSNorm with {@code norm} [H]: x [B, 1, H] -> [B, 1, H], attached to x's
     * manager. {@code weights}: {@link #stackWeights} of the layers, left open; the other arguments as {@link
     * #apply}'s. The cache's buffers are listed at each call: {@link KvCache#retain} replaces them.
     */
    NDArray applyStack(
            NDArray x,
            IValue weights,
            NDArray norm,
            NDArray cos,
            NDArray sin,
            KvCache cache,
            NDArray bias,
            int past,
            int heads,
            int kvHeads,
            boolean qkNorm,
            boolean packed) {
        NDArray[] caches = new NDArray[cache.layers()];
        for (int i = 0; i < caches.length; i++) {
            caches[i] = cache.buffer(i);
        }
        return stack.forward(
                x.getManager(),
                List.of(weights),
                IValue.from((PtNDArray) x),
                weights,
                IValue.from((PtNDArray) norm),
                IValue.from((PtNDArray) cos),
                IValue.from((PtNDArray) sin),
                TorchScriptModule.tensors(List.of(caches)),
                IValue.from((PtNDArray) bias),
                IValue.from((PtNDArray) eps),
                IValue.from((long) past),
                IValue.from((long) heads),
                IValue.from((long) kvHeads),
                IValue.from(qkNorm),
                IValue.from(packed));
    }

    @Override
    public void close() {
        module.close();
        stack.close();
    }
}
