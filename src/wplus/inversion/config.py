"""Settings of one embedding run, checked up front, and the named presets."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Literal, get_args, get_type_hints

from ..errors import ConfigError
from ..losses import LossKind

Space = Literal["z", "w", "w+", "w+n"]
NoiseSchedule = Literal["sequential", "joint"]
Init = Literal["mean", "random", "sample-mean"]
NoiseMode = Literal["const", "random", "none"]
Precision = Literal["auto", "fp32", "bf16"]
CompileMode = Literal["off", "default", "reduce-overhead"]
Optimiser = Literal["adam", "lbfgs"]

SPACES: tuple[str, ...] = get_args(Space)
INITS: tuple[str, ...] = get_args(Init)
PRECISIONS: tuple[str, ...] = get_args(Precision)
_CHOICES = ("space", "init", "loss", "noise_mode", "precision", "compile", "noise_schedule", "optimiser")

#: (field, lowest allowed, highest allowed, lowest is allowed itself)
_RANGES = [("steps", 1, None, True), ("lr", 0.0, None, True), ("eps", 0.0, None, False),
           ("mse_weight", 0.0, None, True), ("perceptual_weight", 0.0, None, True),
           ("perceptual_resolution", 16, None, True), ("patience", 1, None, True),
           ("min_improvement", 0.0, 1.0, True), ("lr_rampup", 0.0, 1.0, True), ("lr_rampdown", 0.0, 1.0, True),
           ("latent_noise", 0.0, None, True), ("latent_noise_ramp", 0.0, 1.0, False),
           ("noise_weight", 0.0, None, True), ("sync_every", 1, None, True), ("noise_split", 0.0, 1.0, True),
           ("noise_lr", 0.0, None, True), ("lbfgs_memory", 1, None, True), ("max_step", 0.0, None, False)]


@dataclass(frozen=True)
class EmbedConfig:
    """Settings of one embedding run. Defaults are the paper's (Adam), except `steps` (1000).

    Every field is checked when the config is made; a bad one raises `ConfigError` naming
    the field, its value and what is allowed."""

    space: Space = "w+"  # latent space optimised: z, w (one w for all layers), w+, or w+n (w+ and noise maps)
    steps: int = 1000  # Adam steps (the paper: 5000)
    init: Init = "mean"  # start from the mean latent or a seeded random one
    lr: float = 0.01  # Adam learning rate (lbfgs: the first step's largest move of a latent entry)
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
    lr_rampup: float = 0.0  # fraction of the steps over which lr rises linearly from 0 (schedule.py)
    lr_rampdown: float = 0.0  # fraction of the steps, at the end, over which lr falls to 0 (half cosine)
    latent_noise: float = 0.0  # std of noise added to the latent at step 0, in units of W's std (W/W+)
    latent_noise_ramp: float = 0.75  # fraction of the steps over which that noise decays (squared) to 0
    optimise_noise: bool = False  # NVIDIA: optimise per-image noise maps (random start) with the latent
    noise_weight: float | None = None  # maps' autocorrelation penalty (noise.py); None: 1e5, 0 for w+n
    noise_renormalise: bool | None = None  # maps to mean 0, std 1 after each step; None: on, off for w+n
    noise_schedule: NoiseSchedule = "sequential"  # w+n: W+ first, then the maps only (I2S++), or joint
    noise_split: float = 0.5  # w+n sequential: fraction of the steps spent on W+ before the maps
    noise_lr: float | None = None  # learning rate of the noise maps; None: lr, 0.1 for w+n
    precision: Precision = "auto"  # auto = bf16 autocast for Adam on CUDA (where supported), else fp32
    compile: CompileMode = "off"  # torch.compile the render + loss; reduce-overhead adds CUDA graphs
    sync_every: int = 32  # steps between the loop's reads of device values (history, checks)
    optimiser: Optimiser = "adam"  # adam, or lbfgs: per-image L-BFGS, one evaluation per step (lbfgs.py)
    lbfgs_memory: int = 100  # lbfgs: curvature pairs kept per image
    max_step: float = 0.5  # lbfgs: largest move of any latent entry in one step

    def __post_init__(self) -> None:
        hints = get_type_hints(EmbedConfig)
        for f in fields(self):
            choices = get_args(hints[f.name]) if f.name in _CHOICES else ()
            if choices and getattr(self, f.name) not in choices:
                raise ConfigError(f"unknown {f.name} {getattr(self, f.name)!r}; choose one of {', '.join(choices)}")
        for name, low, high, inclusive in _RANGES:
            value = getattr(self, name)
            if value is None:
                continue
            too_low = value < low if inclusive else value <= low
            if too_low or (high is not None and value > high):
                bound = f">= {low}" if inclusive else f"> {low}"
                raise ConfigError(f"{name} must be {bound}" + (f" and <= {high}" if high is not None else "")
                                  + f", got {value}")
        if len(self.betas) != 2 or not all(0 <= b < 1 for b in self.betas):
            raise ConfigError(f"betas must be two numbers in [0, 1), got {self.betas}")
        if self.latent_noise and self.space == "z":
            raise ConfigError("latent_noise is added to w: use space w or w+, or latent_noise 0")
        if self.optimiser == "lbfgs" and (self.optimises_noise or self.latent_noise or self.lr_rampup
                                          or self.lr_rampdown):
            raise ConfigError("optimiser lbfgs optimises the latent alone, without a learning-rate schedule: "
                              "use optimiser adam for noise maps, latent noise or lr ramps")
        if self.optimise_noise and self.space == "w+n":
            raise ConfigError("space w+n optimises the noise maps already: drop optimise_noise (NVIDIA's, "
                              "for z/w/w+), or use space w+")

    @property
    def optimises_noise(self) -> bool:
        """Whether per-image noise maps are optimised (space w+n, or NVIDIA's optimise_noise)."""
        return self.optimise_noise or self.space == "w+n"

    @property
    def noise_penalty(self) -> float:
        """The autocorrelation penalty's weight in effect: 1e5 (NVIDIA) unless set; 0 for w+n (I2S++)."""
        if self.noise_weight is not None:
            return self.noise_weight
        return 0.0 if self.space == "w+n" else 1e5

    @property
    def noise_rate(self) -> float:
        """The maps' learning rate in effect: as set, else `lr` (NVIDIA), 0.1 for w+n (measured:
        at lr 0.01 the maps move too little in half the steps; at 1 the noise phase oscillates)."""
        if self.noise_lr is not None:
            return self.noise_lr
        return 0.1 if self.space == "w+n" else self.lr

    @property
    def renormalises_noise(self) -> bool:
        """Whether the maps are re-normalised after each step: as set, else NVIDIA's yes, w+n's no."""
        return self.noise_renormalise if self.noise_renormalise is not None else self.space != "w+n"

    def to_dict(self) -> dict:
        return asdict(self)


#: NVIDIA stylegan2-ada `projector.py`: one w from the mean of 10 000 mapped z, 1000 Adam steps at
#: lr 0.1 (5 % ramp-up, 25 % cosine ramp-down), noise of 0.05 W-std on w fading out over 75 % of
#: the steps, per-image noise maps optimised with the 1e5 autocorrelation penalty, LPIPS-VGG.
NVIDIA = EmbedConfig(space="w", steps=1000, init="sample-mean", lr=0.1, lr_rampup=0.05, lr_rampdown=0.25,
                     latent_noise=0.05, latent_noise_ramp=0.75, optimise_noise=True, noise_weight=1e5,
                     loss="auto-lpips")

#: Named settings. `paper`: Image2StyleGAN's 5000 Adam steps at lr 0.01. `default`: 500 steps
#: of per-image L-BFGS (measured on the default model: the paper's PSNR after 5000 steps in
#: about 400; docs/benchmarks.md). `fast`: 150 of them, stopping early once no image improves.
#: `nvidia`: see NVIDIA. `EmbedConfig()` itself (what `embed` uses without a config) is Adam
#: at lr 0.01 for 1000 steps.
PRESETS: dict[str, EmbedConfig] = {
    "paper": EmbedConfig(steps=5000),
    "default": EmbedConfig(optimiser="lbfgs", lr=0.2, steps=500),
    "fast": EmbedConfig(optimiser="lbfgs", lr=0.2, steps=150, early_stop=True, patience=50),
    "nvidia": NVIDIA,
}
