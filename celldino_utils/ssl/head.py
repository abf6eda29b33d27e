"""Projection head of DINO/iBOT: an MLP, an L2-normalised bottleneck and a layer of unit-norm prototypes."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class DINOHead(nn.Module):
    """MLP head mapping tokens ``(M, in_dim)`` to prototype logits ``(M, out_dim)`` (dinov2 ``DINOHead``).

    ``n_layers`` linear layers (GELU between, optional BatchNorm after each hidden layer as DINO's
    ``use_bn_in_head``) end in a ``bottleneck_dim`` code, which is L2-normalised and compared with
    ``out_dim`` prototypes by the ``last_layer``. The prototypes are normalised to unit length on
    every call, which is dinov2's weight-normalised layer with its norm frozen at 1; so logits are
    cosine similarities in [-1, 1].

    Parameters
    ----------
    in_dim
        Width of the backbone tokens.
    out_dim
        Number of prototypes ``K``.
    hidden_dim, bottleneck_dim, n_layers
        MLP shape; ``n_layers=1`` is a single linear map to the bottleneck.
    use_bn
        BatchNorm in the hidden layers: at small scale it prevents the teacher's early collapse to a uniform output.
    """

    def __init__(
        self,
        in_dim: int,
        *,
        out_dim: int,
        hidden_dim: int = 2048,
        bottleneck_dim: int = 256,
        n_layers: int = 3,
        use_bn: bool = False,
    ) -> None:
        super().__init__()
        if n_layers < 1:
            raise ValueError(f"head_n_layers: must be at least 1, got {n_layers}")
        self.out_dim = out_dim
        self.mlp = nn.Sequential(*_mlp_layers(in_dim, hidden_dim, bottleneck_dim, n_layers=n_layers, use_bn=use_bn))
        self.last_layer = nn.Linear(bottleneck_dim, out_dim, bias=False)
        self.apply(_init_weights)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Logits ``(M, out_dim)`` of tokens ``(M, in_dim)``."""
        code = F.normalize(self.mlp(tokens), dim=-1, eps=1e-6)
        return F.linear(code, F.normalize(self.last_layer.weight, dim=-1, eps=1e-6))


def _mlp_layers(in_dim: int, hidden_dim: int, out_dim: int, *, n_layers: int, use_bn: bool) -> list[nn.Module]:
    if n_layers == 1:
        return [nn.Linear(in_dim, out_dim)]
    layers: list[nn.Module] = []
    width = in_dim
    for _ in range(n_layers - 1):
        layers.append(nn.Linear(width, hidden_dim))
        if use_bn:
            layers.append(nn.BatchNorm1d(hidden_dim))
        layers.append(nn.GELU())
        width = hidden_dim
    layers.append(nn.Linear(width, out_dim))
    return layers


def _init_weights(module: nn.Module) -> None:
    if isinstance(module, nn.Linear):
        nn.init.trunc_normal_(module.weight, std=0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
