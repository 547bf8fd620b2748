from ..losses import LOSS_KINDS
from .callbacks import Callback, Snapshots, StepState, StopEmbedding
from .config import INITS, PRESETS, SPACES, EmbedConfig
from .engine import EmbedResult, NonFiniteLoss, embed
from .spaces import LatentSpace

__all__ = ["Callback", "Snapshots", "StepState", "StopEmbedding", "PRESETS", "EmbedConfig", "EmbedResult",
           "NonFiniteLoss", "embed", "INITS", "LOSS_KINDS", "SPACES", "LatentSpace"]
