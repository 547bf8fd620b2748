"""The DCGAN face generator used as the teacher of the embedded default model.

PyTorch-tutorial DCGAN (nz=100, ngf=64, 64x64 RGB in [-1, 1], BatchNorm in eval mode),
state_dict keys `main.{0,1,3,4,6,7,9,10,12}`; weights: MIT-licensed `gan-face-generate`
1.1.1 (trained on DigiFace-1M synthetic faces), file key `netG_state_dict`.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ..errors import WplusError

NZ = 100


class DCGANGenerator(nn.Module):
    def __init__(self, nz: int = NZ, ngf: int = 64) -> None:
        super().__init__()
        chans = [nz, ngf * 8, ngf * 4, ngf * 2, ngf]
        layers: list[nn.Module] = []
        for i, (cin, cout) in enumerate(zip(chans[:-1], chans[1:])):
            stride, pad = (1, 0) if i == 0 else (2, 1)
            layers += [nn.ConvTranspose2d(cin, cout, 4, stride, pad, bias=False),
                       nn.BatchNorm2d(cout), nn.ReLU(True)]
        layers += [nn.ConvTranspose2d(ngf, 3, 4, 2, 1, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)
        self.nz = nz

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """z: [N, nz] -> images [N, 3, 64, 64] in [-1, 1]."""
        return self.main(z[:, :, None, None])


def load_dcgan_teacher(path: str | Path) -> DCGANGenerator:
    path = Path(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)["netG_state_dict"]
    except FileNotFoundError:
        raise WplusError(f"{path}: teacher weights not found (see ../shared/weights/dcgan_faces/)") from None
    except Exception as exc:
        raise WplusError(f"{path}: unreadable DCGAN teacher weights ({type(exc).__name__})") from None
    G = DCGANGenerator()
    G.load_state_dict(state, strict=True)
    return G.eval().requires_grad_(False)
