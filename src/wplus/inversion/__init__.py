from .callbacks import Callback, Snapshots, StepState
from .engine import PRESETS, EmbedConfig, EmbedResult, embed
from .spaces import INITS, SPACES, LatentSpace

__all__ = ["Callback", "Snapshots", "StepState", "PRESETS", "EmbedConfig", "EmbedResult",
           "embed", "INITS", "SPACES", "LatentSpace"]
