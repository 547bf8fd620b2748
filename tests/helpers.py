"""Builders the tests share: tiny generators and random VGG16 weights (no fixtures here)."""
from __future__ import annotations

import torch

from wplus.models.stylegan2 import Generator, GeneratorConfig
from wplus.models.vgg16 import VGG16Features

TINY = GeneratorConfig(resolution=32, z_dim=64, w_dim=64, channel_base=512, channel_max=64,
                       mapping_layers=2)


def make_generator(cfg: GeneratorConfig = TINY, seed: int = 0, rgb_gain: float = 0.2) -> Generator:
    """A seeded random generator. `rgb_gain` scales the ToRGB weights so that, like a trained
    generator, it outputs images in about [-1, 1] (untrained ones reach +-5)."""
    torch.manual_seed(seed)
    G = Generator(cfg)
    with torch.no_grad():
        for block in G.synthesis.blocks():
            block.torgb.weight.mul_(rgb_gain)
    G.compute_w_avg(n=2000, seed=seed)
    return G.eval().requires_grad_(False)


def vgg_state_dict(seed: int = 1, with_classifier: bool = True) -> dict[str, torch.Tensor]:
    """A random VGG16 state_dict with exactly torchvision's key names and shapes."""
    torch.manual_seed(seed)
    state = VGG16Features().state_dict()
    if with_classifier:
        for i, (o, n) in zip((0, 3, 6), ((4096, 25088), (4096, 4096), (1000, 4096))):
            state[f"classifier.{i}.weight"] = torch.zeros(o, n)
            state[f"classifier.{i}.bias"] = torch.zeros(o)
    return state


def assert_traces_as_one_graph(G, ws: torch.Tensor) -> None:
    """G.synthesis(ws) traces under torch.compile without a graph break (fullgraph raises on
    one) after an eager call has filled its frozen-weight caches, and renders the same."""
    torch._dynamo.reset()
    ws = ws.detach().requires_grad_(True)
    eager = G.synthesis(ws)
    traced = torch.compile(G.synthesis, fullgraph=True, backend="eager")
    torch.testing.assert_close(traced(ws), eager, atol=1e-4, rtol=1e-4)
