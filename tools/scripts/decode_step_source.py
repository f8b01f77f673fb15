"""Prints the TorchScript source of model/DecodeStep (one decoder layer's decode step as one call, and decode_stack:
every layer's, then the final RMSNorm): what
torch.jit.script(...).code gives for the module below. The Java class embeds the printed code with silu and the
attention call written out as libtorch ops; rerun this after changing the module.
Usage: python3 tools/scripts/decode_step_source.py"""
from typing import List, Optional

import torch


class DecodeStep(torch.nn.Module):
    def forward(self, x: torch.Tensor, weights: List[torch.Tensor], cos: torch.Tensor, sin: torch.Tensor,
                cache: torch.Tensor, bias: torch.Tensor, eps: torch.Tensor, past: int, heads: int,
                kv_heads: int, qk_norm: bool, packed: bool) -> torch.Tensor:
        # weights: input norm [H], qkv, o, post norm [H], gate/up, down, then the qkv bias [(Hq+2Hkv)D] if the model
        # has one, then (qk_norm) q_norm [D] and k_norm [D]. The projections are [in, out] views of the weights, or
        # (packed) the weights as mkldnn::_reorder_linear_weight packed them (model/OneDnnLinear).
        b = x.size(0)
        d = cache.size(3)
        rows = heads + 2 * kv_heads
        has_bias = len(weights) > 6 + 2 * int(qk_norm)
        xf = x.to(torch.float32)
        xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)
        h = weights[0] * xf.to(x.dtype)
        if packed:
            qkv_bias: Optional[torch.Tensor] = None
            if has_bias:
                qkv_bias = weights[6]
            proj = torch.ops.mkldnn._linear_pointwise(h, weights[1], qkv_bias, "none", [], "")
        else:
            proj = torch.matmul(h, weights[1])
            if has_bias:
                proj = proj + weights[6]
        if qk_norm:
            per_head = proj.reshape(b, 1, rows, d)
            qk = per_head.narrow(2, 0, heads + kv_heads)
            qkf = qk.to(torch.float32)
            qkf = qkf * torch.rsqrt(qkf.pow(2).mean(-1, keepdim=True) + eps)
            qkn = torch.cat([weights[-2].expand(heads, d), weights[-1].expand(kv_heads, d)], 0) * qkf.to(qk.dtype)
            proj = torch.cat([qkn, per_head.narrow(2, heads + kv_heads, kv_heads)], 2)
        halves = proj.reshape(b, 1, rows, 2, d // 2)
        rotated = (halves * cos + torch.flip(halves, [3]) * sin).reshape(b, 1, rows, d)
        q = rotated.narrow(2, 0, heads).reshape(b, kv_heads, heads // kv_heads, d)
        cache.narrow(2, past, 1).copy_(rotated.narrow(2, heads, 2 * kv_heads).transpose(1, 2))
        kv = cache.narrow(2, 0, past + 1)
        context = torch.nn.functional.scaled_dot_product_attention(q, kv.narrow(1, 0, kv_heads), kv.narrow(1, kv_heads, kv_heads), bias)
        context = context.reshape(b, 1, heads * d)
        if packed:
            x = x + torch.ops.mkldnn._linear_pointwise(context, weights[2], None, "none", [], "")
        else:
            x = x + torch.matmul(context, weights[2])
        xf = x.to(torch.float32)
        xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)
        h = weights[3] * xf.to(x.dtype)
        if packed:
            gate, up = torch.chunk(torch.ops.mkldnn._linear_pointwise(h, weights[4], None, "none", [], ""), 2, -1)
            act = torch.nn.functional.silu(gate) * up
            return x + torch.ops.mkldnn._linear_pointwise(act, weights[5], None, "none", [], "")
        gate, up = torch.chunk(torch.matmul(h, weights[4]), 2, -1)
        return x + torch.matmul(torch.nn.functional.silu(gate) * up, weights[5])

    @torch.jit.export
    def decode_stack(self, x: torch.Tensor, weights: List[torch.Tensor], norm: torch.Tensor, cos: torch.Tensor,
                     sin: torch.Tensor, caches: List[torch.Tensor], bias: torch.Tensor, eps: torch.Tensor, past: int,
                     heads: int, kv_heads: int, qk_norm: bool, packed: bool) -> torch.Tensor:
        # every decoder layer's forward (weights: the layers' weights one after another, as forward lists them; caches:
        # the layers' caches), then the final RMSNorm (norm [H])
        n = len(weights) // len(caches)
        for i in range(len(caches)):
            x = self.forward(x, weights[i * n:(i + 1) * n], cos, sin, caches[i], bias, eps, past, heads, kv_heads,
                             qk_norm, packed)
        xf = x.to(torch.float32)
        xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)
        return norm * xf.to(x.dtype)


if __name__ == "__main__":
    module = torch.jit.script(DecodeStep())
    print(module.code)
    print(module.decode_stack.code)
