"""The Embed tab: upload photos, align, embed with live progress, stop, download."""
from __future__ import annotations

import time

import gradio as gr
import pandas as pd
from PIL import Image, ImageDraw

from ..app import (
    BatchStarted,
    EmbedJob,
    EmbedOptions,
    FacesFound,
    Notice,
    StepDone,
    bundled_examples,
    embed_files,
    preview,
)
from ..inversion import PRESETS, SPACES
from .context import WebContext, enlarged, file_list, in_background, user_errors
from .uploads import public

UPDATES_PER_RUN = 25  # live refreshes of the preview and curve per batch (at most ~3 a second)


def faces_figure(event: FacesFound) -> Image.Image:
    """The photo with each detected face's box and probability drawn on it."""
    photo = Image.open(event.path).convert("RGB")
    draw = ImageDraw.Draw(photo)
    width = max(2, round(max(photo.size) / 200))
    for (x0, y0, x1, y1), p in zip(event.boxes, event.probabilities):
        draw.rectangle((x0, y0, x1, y1), outline=(0, 255, 0), width=width)
        draw.text((x0 + width, y0 + width), f"{p:.2f}", fill=(0, 255, 0))
    return photo


def build(web: WebContext, embeddings: gr.State) -> None:
    """The tab's components and events (inside an open gr.Blocks)."""
    with gr.Tab("Embed", id="embed"):
        with gr.Row():
            with gr.Column(scale=1):
                files = gr.File(label="Photos", file_count="multiple", file_types=["image"], elem_id="embed-files")
                gr.Examples([[[str(bundled_examples()["astronaut"])]]], inputs=[files], label="Example photo")
                align = gr.Checkbox(value=True, label="Detect and align faces first (MTCNN, FFHQ crop)",
                                    elem_id="embed-align")
                space = gr.Radio(list(SPACES), value="w+", label="Latent space", elem_id="embed-space")
                preset = gr.Radio(sorted(PRESETS), value="default", label="Preset", elem_id="embed-preset")
                steps = gr.Slider(10, web.settings.max_steps, step=10, label="Steps", elem_id="embed-steps",
                                  value=min(PRESETS["default"].steps, web.settings.max_steps))
                video = gr.Checkbox(value=False, label="Also write a video of the optimisation (MP4)")
                with gr.Row():
                    run = gr.Button("Embed", variant="primary", elem_id="embed-run")
                    stop = gr.Button("Stop", variant="stop", elem_id="embed-stop")
            with gr.Column(scale=2):
                status = gr.Markdown("Upload photos and press **Embed**.", elem_id="embed-status")
                with gr.Row():
                    faces = gr.Gallery(label="Detected faces", elem_id="embed-faces", height=260, columns=2,
                                       object_fit="contain")
                    current = gr.Image(label="Current reconstruction", format="png", interactive=False,
                                       elem_id="embed-preview", buttons=["download", "fullscreen"])
                curve = gr.LinePlot(x="step", y="psnr", color="image", label="PSNR (dB) per step", height=240,
                                    elem_id="embed-curve")
        results = gr.Image(label="Target | reconstruction (one row per image)", format="png", interactive=False,
                           elem_id="embed-results", buttons=["download", "fullscreen"])
        downloads = gr.File(label="Downloads (latents .npz, PNGs, videos)", file_count="multiple",
                            interactive=False, elem_id="embed-downloads")

    @user_errors
    def run_embed(files, align, space, preset, steps, video, embeddings, request: gr.Request):
        yield from _run(web, files, align, space, preset, steps, video, embeddings, request)

    preset.change(lambda p: min(PRESETS[p].steps, web.settings.max_steps), preset, steps, queue=False)
    stop.click(web.stop_run, None, None, queue=False)  # outside the queue: acts while the run holds its slot
    run.click(run_embed, [files, align, space, preset, steps, video, embeddings],
              [status, faces, current, curve, results, downloads, embeddings], **web.compute())


def _run(web: WebContext, files, align: bool, space: str, preset: str, steps: float, video: bool,
         embeddings: dict, request: gr.Request):
    paths, folder, stop = web.start_run(files, request, "embed")
    job = EmbedJob(paths, folder,
                   EmbedOptions(preset=preset, space=space, steps=int(steps)), align=align, paste_back=align,
                   video=video)
    view = LiveView(job.batch_size)
    for kind, value in in_background(lambda emit: embed_files(web.ws, job, emit, stop), stop):
        if kind == "failed":
            raise value  # a WplusError becomes the page's message (user_errors)
        if kind == "done":
            yield view.final(value, embeddings)
        elif view.take(value):
            yield view.page(embeddings)


class LiveView:
    """What the Embed tab shows while a run goes: status, notices, face figures, the PSNR
    curve and the latest renders; refreshed about `UPDATES_PER_RUN` times per batch."""

    def __init__(self, batch_size: int) -> None:
        self.batch_size = batch_size
        self.notices: list[str] = []
        self.figures: list[Image.Image] = []
        self.rows: list[tuple[int, float, str]] = []
        self.picture = None
        self.status = ""
        self.batch: BatchStarted | None = None
        self.last = 0.0

    def take(self, event) -> bool:
        """Record an event; True when the page should be refreshed now."""
        if isinstance(event, Notice):
            self.notices.append(public(f"{event.kind}: {event.text}"))
        elif isinstance(event, FacesFound):
            self.figures.append(faces_figure(event))
        elif isinstance(event, BatchStarted):
            self.batch = event
        elif isinstance(event, StepDone):
            state, first = event.state, event.batch * self.batch_size
            self.rows += [(state.step, p, f"image {first + i + 1}") for i, p in enumerate(state.psnr.tolist())]
            every = max(1, state.total_steps // UPDATES_PER_RUN)
            due = state.step % every == 0 or state.step == state.total_steps - 1
            if due and time.monotonic() - self.last > 0.3:
                self.last, self.picture = time.monotonic(), preview(state.images)
                self.status = (f"Embedding batch {self.batch.index + 1}/{self.batch.count} ({self.batch.size} "
                               f"image(s)): step {state.step + 1}/{state.total_steps}, PSNR {state.psnr.mean():.2f} dB")
                return True
        return False

    def page(self, embeddings: dict, results=None, files=None) -> tuple:
        """Values of (status, faces, current, curve, results, downloads, embeddings)."""
        status = "\n\n".join([self.status, *[f"- {n}" for n in self.notices[-8:]]])
        curve = pd.DataFrame(self.rows, columns=["step", "psnr", "image"])
        return status, self.figures or None, self.picture, curve, results, files, embeddings

    def final(self, result, embeddings: dict) -> tuple:
        if result.error:
            self.status = f"Stopped by an error: {public(result.error)}; the best results so far are below"
        elif result.interrupted:
            self.status = f"Stopped at step {result.stopped_at[0]}; the best results so far are below"
        else:
            self.status = f"Done: {len(result.images)} image(s) in {result.space.upper()}"
        if result.images:
            self.status += f", mean PSNR {result.mean_psnr:.2f} dB ({result.loss_name} loss)."
            if len(result.images) > 1:
                self.status += "".join(f"\n- {img.name}: {img.psnr:.2f} dB" for img in result.images)
        sheet = enlarged(*(img.compare for img in result.images)) if result.images else None
        files = file_list([f for img in result.images for f in img.files()])
        mine = {**embeddings, **{img.name: str(img.latents) for img in result.images}}
        return self.page(mine, sheet, files or None)
