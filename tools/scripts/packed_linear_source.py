"""Prints the TorchScript sources of model/OneDnnLinear (oneDNN's linear on a weight packed once): what
torch.jit.script(...).code gives for the two modules below. Usage: python3 tools/scripts/packed_linear_source.py"""
from typing import List, Optional

import torch


class PackLinearWeight(torch.nn.Module):
    def forward(self, w: torch.Tensor) -> torch.Tensor:
        return torch.ops.mkldnn._reorder_linear_weight(w)


class PackedLinear(torch.nn.Module):
    def forward(self, x: torch.Tensor, packed: torch.Tensor, bias: List[torch.Tensor]) -> torch.Tensor:
        b: Optional[torch.Tensor] = None
        if len(bias) > 0:
            b = bias[0]
        return torch.ops.mkldnn._linear_pointwise(x, packed, b, "none", [], "")


if __name__ == "__main__":
    print(torch.jit.script(PackLinearWeight()).code)
    print(torch.jit.script(PackedLinear()).code)
