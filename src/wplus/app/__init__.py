"""The application layer: one function per user task, typed options in, typed results out,
progress as events. The CLI (`wplus.cli`) and the web app (`wplus.web`) are thin shells over it.

    ws = Workspace.open(ModelOptions(generator="default"))
    result = embed_files(ws, EmbedJob(["photo.jpg"], Path("out"), EmbedOptions(steps=300)))
"""
from .align import AlignResult, align_files
from .dataset import DatasetResult, embed_dataset
from .edit import EditResult, EditSources, MorphResult, mix_files, morph_files, render, transfer_files
from .embed import EmbeddedImage, EmbedFilesResult, EmbedJob, embed_files
from .events import (
                     BatchFinished,
                     BatchStarted,
                     Event,
                     EventSink,
                     FacesFound,
                     ItemsDone,
                     Notice,
                     ShardStarted,
                     StepDone,
                     StudyStarted,
                     TuneStepDone,
                     TuningStarted,
)
from .experiments import STUDY_NAMES, run_experiments
from .generate import GenerateResult, generate, parse_seeds
from .generators import GeneratorInfo, convert, describe
from .inputs import bundled_examples, preview
from .semantic import (
                     METHODS,
                     SemanticEdit,
                     SemanticEditResult,
                     compute_directions,
                     directions_for,
                     edit_file,
                     parse_direction,
                     parse_sweep,
)
from .tune import TunedImage, TuneFilesResult, TuneJob, TuneOptions, tune_files
from .workspace import EmbedOptions, ModelOptions, Workspace

__all__ = ["AlignResult", "align_files", "DatasetResult", "embed_dataset", "EditResult", "EditSources",
           "MorphResult", "mix_files", "morph_files", "render", "transfer_files", "EmbeddedImage",
           "EmbedFilesResult", "EmbedJob", "embed_files", "BatchFinished", "BatchStarted", "Event", "EventSink",
           "FacesFound", "ItemsDone", "Notice", "ShardStarted", "StepDone", "StudyStarted", "STUDY_NAMES",
           "run_experiments", "GenerateResult", "generate", "parse_seeds", "GeneratorInfo", "convert", "describe",
           "METHODS", "SemanticEdit", "SemanticEditResult", "compute_directions", "directions_for", "edit_file",
           "parse_direction", "parse_sweep",
           "bundled_examples", "preview", "TuneStepDone", "TuningStarted", "TunedImage", "TuneFilesResult",
           "TuneJob", "TuneOptions", "tune_files",
           "EmbedOptions", "ModelOptions", "Workspace"]
