"""Weight deltas of a tuned generator (pivotal tuning's output), kept apart from its base.

A delta touches the synthesis network only (the mapping stays, so latents stay compatible):
every big weight (a conv or affine `*.weight` with at least 16 rows) gets a low-rank update
`up @ down` (LoRA), everything else (biases, ToRGB weights, the constant input, noise
strengths) a full update. `rank=None` makes every update full (plain fine-tuning).

The tuned weight is always computed as `base + delta` by `updated`, both while tuning and
when the delta is applied later, so a saved delta reproduces the tuned renders exactly.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field, replace

import torch
from torch import nn

from ..errors import WplusError

PREFIX = "synthesis."
MIN_LOW_RANK_ROWS = 16


def _low_rank_shape(name: str, p: torch.Tensor) -> tuple[int, int] | None:
    """(rows, columns) of the matrix a low-rank update of `p` has, or None for a full update."""
    if not name.endswith("weight") or p.ndim < 2 or p.shape[0] < MIN_LOW_RANK_ROWS:
        return None
    return p.shape[0], p[0].numel()


@dataclass
class GeneratorDelta:
    """Updates of a base generator's synthesis weights, by parameter name (`synthesis.*`).

    Shape:
        low_rank[name] = (down [rank, columns], up [rows, rank]); the update of a weight of
        shape [rows, ...] is `(up @ down).view(shape)`. full[name]: the parameter's shape.
    """

    base_fingerprint: str
    rank: int | None  # None: every update is full
    low_rank: dict[str, tuple[torch.Tensor, torch.Tensor]] = field(default_factory=dict)
    full: dict[str, torch.Tensor] = field(default_factory=dict)
    meta: dict = field(default_factory=dict)  # how it was made (saved with it)

    @classmethod
    def zeros(cls, G: nn.Module, rank: int | None, *, small: bool = True, seed: int = 0,
              fingerprint: str | None = None) -> "GeneratorDelta":
        """An identity delta for `G`: `up` = 0, `down` ~ N(0, 1/rank) seeded, full updates 0.

        Args:
            rank: rank of the big weights' updates (0: none of them), None: full updates.
            small: also update the small parameters (biases, ToRGB, constant, noise strengths).
        """
        if rank is not None and rank < 0:
            raise WplusError(f"rank must be >= 0 (or None for full updates), got {rank}")
        gen = torch.Generator().manual_seed(seed)
        delta = cls(fingerprint or G.fingerprint(), rank)
        for name, p in G.synthesis.named_parameters():
            name, shape = PREFIX + name, _low_rank_shape(name, p) if rank is not None else None
            if shape is not None and rank:
                down = torch.randn(rank, shape[1], generator=gen) / math.sqrt(rank)
                delta.low_rank[name] = (down.to(p), p.new_zeros(shape[0], rank))
            elif shape is None and (small or rank is None):
                delta.full[name] = torch.zeros_like(p)
        return delta

    def tensors(self) -> list[torch.Tensor]:
        """Every tensor of the delta (what an optimiser updates)."""
        return [t for pair in self.low_rank.values() for t in pair] + list(self.full.values())

    def update(self, name: str, like: torch.Tensor) -> torch.Tensor:
        """The update of parameter `name`, shaped like it."""
        if name in self.low_rank:
            down, up = self.low_rank[name]
            return (up @ down).view_as(like)
        return self.full[name]

    def names(self) -> list[str]:
        return [*self.low_rank, *self.full]

    def updated(self, G: nn.Module) -> dict[str, torch.Tensor]:
        """`base + update` for every parameter the delta touches, names without `synthesis.`."""
        params = dict(G.synthesis.named_parameters())
        return {name[len(PREFIX):]: params[name[len(PREFIX):]] + self.update(name, params[name[len(PREFIX):]])
                for name in self.names()}

    def check_base(self, G: nn.Module, fingerprint: str | None = None, what: str = "the delta") -> None:
        """One-line error unless `G` is the generator this delta was tuned from."""
        actual = fingerprint or G.fingerprint()
        if actual != self.base_fingerprint:
            raise WplusError(f"{what} was tuned on generator {self.base_fingerprint} but this generator is "
                             f"{actual} ({G.source}); pass the base generator it was made with (--generator)")
        params = dict(G.synthesis.named_parameters())
        for name in self.names():
            key = name[len(PREFIX):]
            if key not in params or self.update(name, params[key]).numel() != params[key].numel():
                raise WplusError(f"{what}: parameter {name} does not fit this generator")

    def apply(self, G: nn.Module, label: str = "delta", fingerprint: str | None = None,
              what: str = "the delta") -> nn.Module:
        """A copy of `G` with the delta merged into its weights (G itself is unchanged)."""
        self.check_base(G, fingerprint, what)
        tuned = copy.deepcopy(G)
        with torch.no_grad():
            for key, value in self.updated(G).items():
                tuned.synthesis.get_parameter(key).copy_(value)
        tuned.provenance = replace(G.provenance, source=f"{G.source} + {label}")
        return tuned

    def detached(self, dtype: torch.dtype = torch.float32) -> "GeneratorDelta":
        """A copy without autograd history, its values rounded to `dtype` (kept as float32),
        so that saving it in `dtype` loses nothing."""
        rounded = lambda t: t.detach().to(dtype).float().clone()
        return replace(self, low_rank={k: (rounded(d), rounded(u)) for k, (d, u) in self.low_rank.items()},
                       full={k: rounded(v) for k, v in self.full.items()}, meta=dict(self.meta))

    def num_values(self) -> int:
        return sum(t.numel() for t in self.tensors())

    def is_identity(self) -> bool:
        return all(not u.any() for _, u in self.low_rank.values()) and all(not v.any() for v in self.full.values())


def full_size_values(G: nn.Module) -> int:
    """Number of values a full copy of the generator stores (parameters and buffers)."""
    return sum(t.numel() for t in G.state_dict().values())
