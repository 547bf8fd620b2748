"""The Generate tab: sample images (and their w) by seed."""
import gradio as gr

from ..app import generate, parse_seeds
from .context import WebContext, file_list, session_of, user_errors

MAX_SEEDS = 64


def build(web: WebContext) -> None:
    with gr.Tab("Generate", id="generate"):
        with gr.Row():
            seeds = gr.Textbox("0-7", label="Seeds (e.g. 0-7 or 1,4,9)", elem_id="generate-seeds")
            truncation = gr.Slider(0, 1.5, value=1.0, step=0.05, label="Truncation ψ", elem_id="generate-truncation")
        run = gr.Button("Generate", variant="primary", elem_id="generate-run")
        gallery = gr.Gallery(label="Samples", columns=8, height=300, elem_id="generate-gallery")
        downloads = gr.File(label="Downloads (seeds.npz holds every w)", file_count="multiple",
                            interactive=False, elem_id="generate-downloads")

    @user_errors
    def run_generate(seeds: str, truncation: float, request: gr.Request):
        chosen = parse_seeds(seeds)
        if len(chosen) > MAX_SEEDS:
            raise gr.Error(f"{len(chosen)} seeds asked for; at most {MAX_SEEDS} at a time here")
        result = generate(web.ws, chosen, web.sessions.run_folder(session_of(request), "generate"), float(truncation))
        pictures = [(str(p), f"seed {s}") for s, p in zip(chosen, result.images)]
        return pictures, file_list([result.latents, result.grid, *result.images])

    run.click(run_generate, [seeds, truncation], [gallery, downloads], **web.compute())
