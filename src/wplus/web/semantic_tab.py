"""The Edit tab's semantic part: sliders along named directions (the shipped ones for the
default model, or an uploaded directions file), applied when a slider is released."""
import gradio as gr

from ..app import SemanticEdit, directions_for, edit_file
from ..editing.direction_files import load_directions
from ..errors import WplusError
from .context import WebContext, enlarged, file_list, session_of, user_errors
from .sources import edit_sources, resolve, source_picker
from .uploads import check_pixels, upload_paths

SLOTS = 6  # direction + strength pairs on the page


def _shipped_names(web: WebContext) -> list[str]:
    """The shipped directions' names, labelled ones (yaw, smile, ...) first: they fill the sliders."""
    try:
        directions = directions_for(web.ws).directions
    except WplusError:
        return []
    return sorted(directions, key=lambda n: directions[n].source != "interfacegan" or n.endswith("_only"))


def build(web: WebContext, embeddings: gr.State, steps: gr.Slider) -> list[gr.Dropdown]:
    """Components and events; returns the input picker (refreshed with the session's embeddings)."""
    names = _shipped_names(web)
    gr.Markdown("Move the input along named directions; strengths are in standard deviations of the "
                "generator's W. " + ("The directions shipped with the default model are listed; " if names else
                                     "No directions ship for this generator: ") + "upload a directions file "
                "(`wplus directions compute ...`, InterFaceGAN .npy, GANSpace .npz) to use others.")
    with gr.Row():
        pick, upload = source_picker("Input", "semantic-input")
        with gr.Column(min_width=200):
            file = gr.File(label="Directions file (optional)", file_types=[".safetensors", ".npy", ".npz"],
                           elem_id="semantic-directions")
            layers = gr.Textbox("", label="Layers (blank: each direction's own; e.g. 0-3)", elem_id="semantic-layers")
    slots = []
    for k in range(SLOTS):
        with gr.Row():
            name = gr.Dropdown(names, value=names[k] if k < len(names) else None, label=f"Direction {k + 1}",
                               elem_id=f"semantic-name{k}", scale=1)
            strength = gr.Slider(-3, 3, value=0, step=0.1, label="Strength", elem_id=f"semantic-strength{k}", scale=3)
        slots.append((name, strength))
    run = gr.Button("Apply", variant="primary", elem_id="semantic-run")
    result = gr.Image(label="input | edited", format="png", interactive=False, height=256,
                      buttons=["download", "fullscreen"], elem_id="semantic-out")
    downloads = gr.File(label="Downloads", file_count="multiple", interactive=False, elem_id="semantic-downloads")

    @user_errors
    def apply(request: gr.Request, embeddings, pick, upload, file, layers, steps, *pairs):
        """`pairs`: each slot's direction name and strength."""
        spec = resolve(embeddings, pick, upload, "input")
        check_pixels([spec], web.settings.max_pixels)
        chosen = tuple((n, float(s)) for n, s in zip(pairs[::2], pairs[1::2]) if n and float(s) != 0)
        uploaded = upload_paths(file)
        dirs = load_directions(uploaded[0]) if uploaded else directions_for(web.ws)
        dirs.check_fits(web.ws.G.w_dim, web.ws.G.num_ws)
        edit = SemanticEdit(chosen or ((next(iter(dirs.directions)), 0.0),), layers.strip() or None)
        out = web.sessions.run_folder(session_of(request), "semantic")
        done = edit_file(web.ws, spec, edit, out, dirs, edit_sources(web, request, steps))
        return enlarged(done.strip), file_list([done.strip, done.latents])

    def refresh(file):
        """The direction names of an uploaded file (or the shipped ones) in every slot."""
        uploaded = upload_paths(file)
        options = list(load_directions(uploaded[0]).directions) if uploaded else names
        return [gr.update(choices=options, value=options[k] if k < len(options) else None) for k in range(SLOTS)]

    inputs = [embeddings, pick, upload, file, layers, steps, *[c for pair in slots for c in pair]]
    run.click(apply, inputs, [result, downloads], **web.compute())
    for _, strength in slots:
        strength.release(apply, inputs, [result, downloads], **web.compute())
    file.change(user_errors(refresh), file, [name for name, _ in slots], queue=False)
    return [pick]
