"""The Edit tab: the paper's editing applications (mix, morph, transfer) on the session's
embeddings, uploaded latent files or images (embedded first), and the bundled examples."""
import gradio as gr

from ..app import mix_files, morph_files, transfer_files
from . import semantic_tab
from .context import WebContext, enlarged, file_list, session_of, user_errors
from .sources import choices, edit_sources, resolve, source_picker
from .uploads import check_pixels

FIGURE = dict(format="png", interactive=False, height=256, buttons=["download", "fullscreen"])


def build(web: WebContext, embeddings: gr.State) -> gr.Tab:
    with gr.Tab("Edit", id="edit") as tab:
        gr.Markdown("Inputs: your embeddings from the Embed tab, a latent file (.npz, .pt), an image "
                    "(embedded first with the steps below) or a bundled example.")
        steps = gr.Slider(10, web.settings.max_steps, value=min(300, web.settings.max_steps), step=10,
                          label="Steps for embedding image inputs", elem_id="edit-steps")
        with gr.Tab("Mix (crossover)", id="mix"):
            with gr.Row():
                content = source_picker("Content", "mix-content")
                style = source_picker("Style", "mix-style")
            layers = gr.Textbox("0-3", label="Layers taken from the style (e.g. 0-3, 6-9, all)", elem_id="mix-layers")
            mix_run = gr.Button("Mix", variant="primary", elem_id="mix-run")
            mix_image = gr.Image(label="content | style | mixed", elem_id="mix-out", **FIGURE)
            mix_files_out = gr.File(label="Downloads", file_count="multiple", interactive=False,
                                    elem_id="mix-downloads")
        with gr.Tab("Morph", id="morph"):
            with gr.Row():
                first = source_picker("From", "morph-a")
                second = source_picker("To", "morph-b")
            frames = gr.Slider(2, 60, value=16, step=1, label="Frames", elem_id="morph-frames")
            morph_run = gr.Button("Morph", variant="primary", elem_id="morph-run")
            morph_strip = gr.Image(label="Strip", elem_id="morph-out", **FIGURE)
            morph_files_out = gr.File(label="Downloads (GIF, strip, latents)", file_count="multiple",
                                      interactive=False, elem_id="morph-downloads")
        with gr.Tab("Semantic (directions)", id="semantic"):
            semantic_picks = semantic_tab.build(web, embeddings, steps)
        with gr.Tab("Transfer (latent arithmetic)", id="transfer"):
            with gr.Row():
                target = source_picker("Target", "transfer-target")
                source = source_picker("From (e.g. neutral)", "transfer-from")
                dest = source_picker("To (e.g. smiling)", "transfer-to")
            strength = gr.Slider(-3, 3, value=1, step=0.1, label="Strength", elem_id="transfer-strength")
            transfer_run = gr.Button("Transfer", variant="primary", elem_id="transfer-run")
            transfer_image = gr.Image(label="target | from | to | result", elem_id="transfer-out", **FIGURE)
            transfer_files_out = gr.File(label="Downloads", file_count="multiple", interactive=False,
                                         elem_id="transfer-downloads")

    @user_errors
    def run_mix(embeddings, c_pick, c_file, s_pick, s_file, layers, steps, request: gr.Request):
        inputs = [resolve(embeddings, c_pick, c_file, "content"), resolve(embeddings, s_pick, s_file, "style")]
        check_pixels(inputs, web.settings.max_pixels)
        out = web.sessions.run_folder(session_of(request), "mix")
        result = mix_files(web.ws, *inputs, out, layers, edit_sources(web, request, steps))
        return enlarged(result.figure), file_list([result.figure, result.latents])

    @user_errors
    def run_morph(embeddings, a_pick, a_file, b_pick, b_file, frames, steps, request: gr.Request):
        inputs = [resolve(embeddings, a_pick, a_file, "first input"), resolve(embeddings, b_pick, b_file, "second")]
        check_pixels(inputs, web.settings.max_pixels)
        out = web.sessions.run_folder(session_of(request), "morph")
        result = morph_files(web.ws, *inputs, out, int(frames), sources=edit_sources(web, request, steps))
        return enlarged(result.strip, height=128), file_list([result.animation, result.strip, result.latents])

    @user_errors
    def run_transfer(embeddings, t_pick, t_file, f_pick, f_file, to_pick, to_file, strength, steps,
                     request: gr.Request):
        inputs = [resolve(embeddings, t_pick, t_file, "target"), resolve(embeddings, f_pick, f_file, "'from' input"),
                  resolve(embeddings, to_pick, to_file, "'to' input")]
        check_pixels(inputs, web.settings.max_pixels)
        out = web.sessions.run_folder(session_of(request), "transfer")
        result = transfer_files(web.ws, *inputs, out, float(strength), edit_sources(web, request, steps))
        return enlarged(result.figure), file_list([result.figure, result.latents])

    picks = [content[0], style[0], first[0], second[0], target[0], source[0], dest[0], *semantic_picks]
    tab.select(lambda e: [gr.update(choices=choices(e)) for _ in picks], embeddings, picks, queue=False)
    mix_run.click(run_mix, [embeddings, *content, *style, layers, steps], [mix_image, mix_files_out], **web.compute())
    morph_run.click(run_morph, [embeddings, *first, *second, frames, steps], [morph_strip, morph_files_out],
                    **web.compute())
    transfer_run.click(run_transfer, [embeddings, *target, *source, *dest, strength, steps],
                       [transfer_image, transfer_files_out], **web.compute())
    return tab
