from ..losses import LOSS_KINDS
from .callbacks import Callback, Snapshots, StepState, StopEmbedding
from .config import INITS, PRECISIONS, PRESETS, SPACES, EmbedConfig
from .engine import EmbedResult, NonFiniteLoss, embed
from .schedule import LRSchedule
from .spaces import LatentSpace

__all__ = ["Callback", "Snapshots", "StepState", "StopEmbedding", "PRESETS", "EmbedConfig", "EmbedResult",
           "NonFiniteLoss", "embed", "INITS", "LOSS_KINDS", "PRECISIONS", "SPACES", "LatentSpace", "LRSchedule"]
