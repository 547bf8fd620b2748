"""VGG16 feature extractor with torchvision's state_dict layout (`features.N.weight`).

torchvision's `vgg16-397923af.pth` loads as is (its `classifier.*` tensors are ignored).
Weights are resolved: explicit path / `WPLUS_VGG16` env var -> torch hub cache -> download
(when online and `WPLUS_OFFLINE` is unset) -> `VGGWeightsNotFound`.
"""
from __future__ import annotations

import os
import urllib.request
from pathlib import Path

import torch
from torch import nn

from ..errors import WplusError
from . import winograd

VGG16_URL = "https://download.pytorch.org/models/vgg16-397923af.pth"
VGG16_FILENAME = "vgg16-397923af.pth"
_CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
_NAMES = ["conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1", "conv3_2", "conv3_3",
          "conv4_1", "conv4_2", "conv4_3", "conv5_1", "conv5_2", "conv5_3"]


def _conv_indices() -> list[int]:
    idx, out = 0, []
    for v in _CFG:
        if v == "M":
            idx += 1
        else:
            out.append(idx)
            idx += 2  # conv, relu
    return out


#: torchvision `features` index of each conv layer (its ReLU is the next index).
CONV_INDEX: dict[str, int] = dict(zip(_NAMES, _conv_indices()))
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class VGGWeightsNotFound(WplusError):
    pass


class VGG16Features(nn.Module):
    """`torchvision.models.vgg16().features`, returning chosen activations."""

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        in_ch = 3
        for v in _CFG:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(in_ch, v, 3, padding=1), nn.ReLU(inplace=False)]
                in_ch = v
        self.features = nn.Sequential(*layers)
        self._winograd = {i: winograd.TransformCache() for i, m in enumerate(layers) if isinstance(m, nn.Conv2d)}

    def forward(self, x: torch.Tensor, layers: list[str]) -> list[torch.Tensor]:
        """Activations of `layers` (names like 'conv3_2'), after their ReLU."""
        wanted = {CONV_INDEX[name] + 1: name for name in layers}
        found: dict[str, torch.Tensor] = {}
        for i, module in enumerate(self.features):
            if i in self._winograd and winograd.eligible(module.weight, x):
                x = winograd.conv3x3(x, self._winograd[i].get(module.weight)) + module.bias[:, None, None]
            else:
                x = module(x)
            if i in wanted:
                found[wanted[i]] = x
                if len(found) == len(wanted):
                    break
        return [found[name] for name in layers]


def hub_cache_path() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / VGG16_FILENAME


def _download(dest: Path, timeout: float = 10.0) -> bool:
    """Try to download torchvision's VGG16 weights; False when offline."""
    if os.environ.get("WPLUS_OFFLINE"):
        return False
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    try:
        with urllib.request.urlopen(VGG16_URL, timeout=timeout) as response, open(tmp, "wb") as f:
            while chunk := response.read(1 << 20):
                f.write(chunk)
    except OSError:
        tmp.unlink(missing_ok=True)
        return False
    tmp.replace(dest)
    return True


def resolve_vgg16_weights(path: str | Path | None = None, download: bool = True) -> Path:
    """Find VGG16 weights: explicit path, $WPLUS_VGG16, torch hub cache, then download."""
    explicit = path or os.environ.get("WPLUS_VGG16")
    if explicit:
        p = Path(explicit)
        if not p.is_file():
            raise VGGWeightsNotFound(f"{p}: VGG16 weights file not found (check --vgg16 / WPLUS_VGG16)")
        return p
    cached = hub_cache_path()
    if cached.is_file():
        return cached
    if download and _download(cached):
        return cached
    raise VGGWeightsNotFound(
        f"VGG16 weights not found: download {VGG16_URL} and pass --vgg16 PATH, set WPLUS_VGG16, "
        f"or place it at {cached}")


def load_vgg16(path: str | Path | None = None, download: bool = True) -> VGG16Features:
    """Build VGG16 features and load torchvision-layout weights with strict key checking."""
    p = resolve_vgg16_weights(path, download)
    try:
        state = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated zip, pickle error, not a torch file...
        raise VGGWeightsNotFound(f"{p}: unreadable VGG16 weights ({type(exc).__name__}); "
                                 f"delete it and download {VGG16_URL} again") from None
    if not isinstance(state, dict):
        raise VGGWeightsNotFound(f"{p}: expected a state_dict, got {type(state).__name__}")
    model = VGG16Features()
    expected = set(model.state_dict())
    missing = sorted(expected - set(state))
    unexpected = sorted(k for k in set(state) - expected if not k.startswith("classifier."))
    if missing or unexpected:
        raise VGGWeightsNotFound(f"{p}: not torchvision VGG16 weights (missing {missing[:3]}, "
                                 f"unexpected {unexpected[:3]})")
    try:
        model.load_state_dict({k: state[k] for k in expected}, strict=True)
    except RuntimeError as exc:
        reason = str(exc).splitlines()[-1].strip()
        raise VGGWeightsNotFound(f"{p}: VGG16 tensors have wrong shapes ({reason})") from None
    return model.eval().requires_grad_(False)
