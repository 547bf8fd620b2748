"""Settings of one embedding run, checked up front, and the named presets."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Literal, get_args, get_type_hints

from ..errors import ConfigError
from ..losses import LossKind

Space = Literal["z", "w", "w+"]
Init = Literal["mean", "random"]
NoiseMode = Literal["const", "random", "none"]

SPACES: tuple[str, ...] = get_args(Space)
INITS: tuple[str, ...] = get_args(Init)

#: (field, lowest allowed, highest allowed, lowest is allowed itself)
_RANGES = [("steps", 1, None, True), ("lr", 0.0, None, True), ("eps", 0.0, None, False),
           ("mse_weight", 0.0, None, True), ("perceptual_weight", 0.0, None, True),
           ("perceptual_resolution", 16, None, True), ("patience", 1, None, True),
           ("min_improvement", 0.0, 1.0, True)]


@dataclass(frozen=True)
class EmbedConfig:
    """Settings of one embedding run. Defaults are the paper's, except `steps` (1000).

    Every field is checked when the config is made; a bad one raises `ConfigError` naming
    the field, its value and what is allowed."""

    space: Space = "w+"  # latent space optimised: z, w (one w for all layers) or w+
    steps: int = 1000  # Adam steps (the paper: 5000)
    init: Init = "mean"  # start from the mean latent or a seeded random one
    lr: float = 0.01  # Adam learning rate
    betas: tuple[float, float] = (0.9, 0.999)  # Adam betas
    eps: float = 1e-8  # Adam epsilon
    loss: LossKind = "auto"  # auto = i2s (MSE + VGG16) when weights exist, else mse+msssim
    mse_weight: float = 1.0  # weight of the pixel MSE term
    perceptual_weight: float = 1.0  # weight of the VGG16 perceptual term
    perceptual_resolution: int = 256  # side of the images VGG16 sees
    noise_mode: NoiseMode = "const"  # the generator's noise inputs during embedding
    seed: int = 0  # seed of random inits (mixed with each image's content)
    early_stop: bool = False  # stop when no image improved for `patience` steps
    patience: int = 100  # steps without improvement before an early stop
    min_improvement: float = 1e-4  # relative loss decrease that counts as improvement

    def __post_init__(self) -> None:
        hints = get_type_hints(EmbedConfig)
        for f in fields(self):
            choices = get_args(hints[f.name]) if f.name in ("space", "init", "loss", "noise_mode") else ()
            if choices and getattr(self, f.name) not in choices:
                raise ConfigError(f"unknown {f.name} {getattr(self, f.name)!r}; choose one of {', '.join(choices)}")
        for name, low, high, inclusive in _RANGES:
            value = getattr(self, name)
            too_low = value < low if inclusive else value <= low
            if too_low or (high is not None and value > high):
                bound = f">= {low}" if inclusive else f"> {low}"
                raise ConfigError(f"{name} must be {bound}" + (f" and <= {high}" if high is not None else "")
                                  + f", got {value}")
        if len(self.betas) != 2 or not all(0 <= b < 1 for b in self.betas):
            raise ConfigError(f"betas must be two numbers in [0, 1), got {self.betas}")

    def to_dict(self) -> dict:
        return asdict(self)


#: Named settings. `paper`: Image2StyleGAN's 5000 Adam steps at lr 0.01.
PRESETS: dict[str, EmbedConfig] = {
    "paper": EmbedConfig(steps=5000),
    "default": EmbedConfig(),
    "fast": EmbedConfig(steps=300, early_stop=True, patience=50),
}
