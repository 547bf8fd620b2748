"""Editing inputs in the page: one of the session's embeddings, a bundled example, or an upload."""
from pathlib import Path

import gradio as gr

from ..app import EditSources, EmbedOptions, bundled_examples
from .context import WebContext, session_of
from .uploads import upload_paths

LATENT_TYPES = ["image", ".npz", ".pt"]
MINE, EXAMPLE = "yours: ", "example: "


def choices(embeddings: dict) -> list[str]:
    return [*(MINE + name for name in embeddings), *(EXAMPLE + name for name in bundled_examples())]


def source_picker(label: str, elem: str) -> tuple[gr.Dropdown, gr.File]:
    with gr.Column(min_width=200):
        pick = gr.Dropdown(choices({}), label=label, elem_id=f"{elem}-pick")
        upload = gr.File(label="or upload an image / latent file", file_types=LATENT_TYPES, elem_id=f"{elem}-file")
    return pick, upload


def resolve(embeddings: dict, pick: str | None, upload, label: str) -> Path:
    """The uploaded file if any, else the chosen embedding or example."""
    uploaded = upload_paths(upload)
    if uploaded:
        return uploaded[0]
    if pick and pick.startswith(MINE) and pick.removeprefix(MINE) in embeddings:
        return Path(embeddings[pick.removeprefix(MINE)])
    if pick and pick.startswith(EXAMPLE):
        return bundled_examples()[pick.removeprefix(EXAMPLE)]
    raise gr.Error(f"Choose or upload the {label} first.")


def edit_sources(web: WebContext, request: gr.Request, steps: float) -> EditSources:
    """Image inputs are embedded with `steps` and cached in the session's own folder."""
    return EditSources(EmbedOptions(steps=int(steps)), web.sessions.folder(session_of(request)) / "cache")
