"""The Edit tab: the paper's editing applications (mix, morph, transfer) on the session's
embeddings, uploaded latent files or images (embedded first), and the bundled examples."""
from pathlib import Path

import gradio as gr

from ..app import EditSources, EmbedOptions, bundled_examples, mix_files, morph_files, transfer_files
from .context import WebContext, enlarged, file_list, session_of, user_errors
from .uploads import check_pixels, upload_paths

LATENT_TYPES = ["image", ".npz", ".pt"]
FIGURE = dict(format="png", interactive=False, height=256, buttons=["download", "fullscreen"])


MINE, EXAMPLE = "yours: ", "example: "


def _choices(embeddings: dict) -> list[str]:
    return [*(MINE + name for name in embeddings), *(EXAMPLE + name for name in bundled_examples())]


def _source(web: WebContext, label: str, elem: str) -> tuple[gr.Dropdown, gr.File]:
    with gr.Column(min_width=200):
        pick = gr.Dropdown(_choices({}), label=label, elem_id=f"{elem}-pick")
        upload = gr.File(label="or upload an image / latent file", file_types=LATENT_TYPES, elem_id=f"{elem}-file")
    return pick, upload


def _resolve(embeddings: dict, pick: str | None, upload, label: str) -> Path:
    """The uploaded file if any, else the chosen embedding or example."""
    uploaded = upload_paths(upload)
    if uploaded:
        return uploaded[0]
    if pick and pick.startswith(MINE) and pick.removeprefix(MINE) in embeddings:
        return Path(embeddings[pick.removeprefix(MINE)])
    if pick and pick.startswith(EXAMPLE):
        return bundled_examples()[pick.removeprefix(EXAMPLE)]
    raise gr.Error(f"Choose or upload the {label} first.")


def build(web: WebContext, embeddings: gr.State) -> gr.Tab:
    with gr.Tab("Edit", id="edit") as tab:
        gr.Markdown("Inputs: your embeddings from the Embed tab, a latent file (.npz, .pt), an image "
                    "(embedded first with the steps below) or a bundled example.")
        steps = gr.Slider(10, web.settings.max_steps, value=min(300, web.settings.max_steps), step=10,
                          label="Steps for embedding image inputs", elem_id="edit-steps")
        with gr.Tab("Mix (crossover)", id="mix"):
            with gr.Row():
                content = _source(web, "Content", "mix-content")
                style = _source(web, "Style", "mix-style")
            layers = gr.Textbox("0-3", label="Layers taken from the style (e.g. 0-3, 6-9, all)", elem_id="mix-layers")
            mix_run = gr.Button("Mix", variant="primary", elem_id="mix-run")
            mix_image = gr.Image(label="content | style | mixed", elem_id="mix-out", **FIGURE)
            mix_files_out = gr.File(label="Downloads", file_count="multiple", interactive=False,
                                    elem_id="mix-downloads")
        with gr.Tab("Morph", id="morph"):
            with gr.Row():
                first = _source(web, "From", "morph-a")
                second = _source(web, "To", "morph-b")
            frames = gr.Slider(2, 60, value=16, step=1, label="Frames", elem_id="morph-frames")
            morph_run = gr.Button("Morph", variant="primary", elem_id="morph-run")
            morph_strip = gr.Image(label="Strip", elem_id="morph-out", **FIGURE)
            morph_files_out = gr.File(label="Downloads (GIF, strip, latents)", file_count="multiple",
                                      interactive=False, elem_id="morph-downloads")
        with gr.Tab("Transfer (latent arithmetic)", id="transfer"):
            with gr.Row():
                target = _source(web, "Target", "transfer-target")
                source = _source(web, "From (e.g. neutral)", "transfer-from")
                dest = _source(web, "To (e.g. smiling)", "transfer-to")
            strength = gr.Slider(-3, 3, value=1, step=0.1, label="Strength", elem_id="transfer-strength")
            transfer_run = gr.Button("Transfer", variant="primary", elem_id="transfer-run")
            transfer_image = gr.Image(label="target | from | to | result", elem_id="transfer-out", **FIGURE)
            transfer_files_out = gr.File(label="Downloads", file_count="multiple", interactive=False,
                                         elem_id="transfer-downloads")

    def sources(request: gr.Request, steps: float) -> EditSources:
        """Image inputs are embedded with `steps` and cached in the session's own folder."""
        return EditSources(EmbedOptions(steps=int(steps)), web.sessions.folder(session_of(request)) / "cache")

    @user_errors
    def run_mix(embeddings, c_pick, c_file, s_pick, s_file, layers, steps, request: gr.Request):
        inputs = [_resolve(embeddings, c_pick, c_file, "content"), _resolve(embeddings, s_pick, s_file, "style")]
        check_pixels(inputs, web.settings.max_pixels)
        out = web.sessions.run_folder(session_of(request), "mix")
        result = mix_files(web.ws, *inputs, out, layers, sources(request, steps))
        return enlarged(result.figure), file_list([result.figure, result.latents])

    @user_errors
    def run_morph(embeddings, a_pick, a_file, b_pick, b_file, frames, steps, request: gr.Request):
        inputs = [_resolve(embeddings, a_pick, a_file, "first input"), _resolve(embeddings, b_pick, b_file, "second")]
        check_pixels(inputs, web.settings.max_pixels)
        out = web.sessions.run_folder(session_of(request), "morph")
        result = morph_files(web.ws, *inputs, out, int(frames), sources=sources(request, steps))
        return enlarged(result.strip, height=128), file_list([result.animation, result.strip, result.latents])

    @user_errors
    def run_transfer(embeddings, t_pick, t_file, f_pick, f_file, to_pick, to_file, strength, steps,
                     request: gr.Request):
        inputs = [_resolve(embeddings, t_pick, t_file, "target"), _resolve(embeddings, f_pick, f_file, "'from' input"),
                  _resolve(embeddings, to_pick, to_file, "'to' input")]
        check_pixels(inputs, web.settings.max_pixels)
        out = web.sessions.run_folder(session_of(request), "transfer")
        result = transfer_files(web.ws, *inputs, out, float(strength), sources(request, steps))
        return enlarged(result.figure), file_list([result.figure, result.latents])

    picks = [content[0], style[0], first[0], second[0], target[0], source[0], dest[0]]
    tab.select(lambda e: [gr.update(choices=_choices(e)) for _ in picks], embeddings, picks, queue=False)
    mix_run.click(run_mix, [embeddings, *content, *style, layers, steps], [mix_image, mix_files_out], **web.compute())
    morph_run.click(run_morph, [embeddings, *first, *second, frames, steps], [morph_strip, morph_files_out],
                    **web.compute())
    transfer_run.click(run_transfer, [embeddings, *target, *source, *dest, strength, steps],
                       [transfer_image, transfer_files_out], **web.compute())
    return tab
