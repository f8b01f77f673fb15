"""Prints the TorchScript source of model/DecodeStep (one decoder layer's decode step as one call): what
torch.jit.script(...).code gives for the module below. The Java class embeds the printed code; rerun this
after changing the module. Usage: python3 tools/scripts/decode_step_source.py"""
from typing import List

import torch


class DecodeStep(torch.nn.Module):
    def forward(self, x: torch.Tensor, weights: List[torch.Tensor], cos: torch.Tensor, sin: torch.Tensor,
                cache: torch.Tensor, bias: torch.Tensor, eps: torch.Tensor, past: int, heads: int,
                kv_heads: int) -> torch.Tensor:
        # weights: input norm [H], qkv [H, (Hq+2Hkv)D], o [Hq D, H], post norm [H], gate/up [H, 2I], down [I, H]
        # (the projections as [in, out] views), then the qkv bias [(Hq+2Hkv)D] if the model has one
        b = x.size(0)
        d = cache.size(3)
        rows = heads + 2 * kv_heads
        xf = x.to(torch.float32)
        xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)
        proj = torch.matmul(weights[0] * xf.to(x.dtype), weights[1])
        if len(weights) > 6:
            proj = proj + weights[6]
        halves = proj.reshape(b, 1, rows, 2, d // 2)
        rotated = (halves * cos + torch.flip(halves, [3]) * sin).reshape(b, 1, rows, d)
        q = rotated.narrow(2, 0, heads).reshape(b, kv_heads, heads // kv_heads, d)
        cache.narrow(2, past, 1).copy_(rotated.narrow(2, heads, 2 * kv_heads).transpose(1, 2))
        kv = cache.narrow(2, 0, past + 1)
        context = torch.nn.functional.scaled_dot_product_attention(q, kv.narrow(1, 0, kv_heads), kv.narrow(1, kv_heads, kv_heads), bias)
        x = x + torch.matmul(context.reshape(b, 1, heads * d), weights[2])
        xf = x.to(torch.float32)
        xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)
        gate, up = torch.chunk(torch.matmul(weights[3] * xf.to(x.dtype), weights[4]), 2, -1)
        return x + torch.matmul(torch.nn.functional.silu(gate) * up, weights[5])


if __name__ == "__main__":
    print(torch.jit.script(DecodeStep()).code)
