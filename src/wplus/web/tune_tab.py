"""The Tune tab: pivotal tuning (PTI) of uploaded photos, with live progress and downloads
of each photo's pivot latent and generator delta (use them with `--delta` on the CLI)."""
import time

import gradio as gr

from ..app import (
    BatchStarted,
    Notice,
    StepDone,
    TuneJob,
    TuneOptions,
    TuneStepDone,
    TuningStarted,
    bundled_examples,
    preview,
    tune_files,
)
from ..inversion.tuning import TUNE_PRESETS
from .context import WebContext, enlarged, file_list, in_background, user_errors
from .uploads import public

REFRESH_SECONDS = 0.5  # the page is refreshed at most this often while a run goes


def build(web: WebContext) -> None:
    """The tab's components and events (inside an open gr.Blocks)."""
    with gr.Tab("Tune (PTI)", id="tune"):
        gr.Markdown("Pivotal tuning: each photo is embedded in W, then the generator's weights are tuned so "
                    "that this code renders the photo. The tuned weights download as a small delta file: "
                    "`wplus edit PHOTO.npz --delta PHOTO_delta.safetensors ...` edits the tuned result.")
        with gr.Row():
            with gr.Column(scale=1):
                files = gr.File(label="Photos", file_count="multiple", file_types=["image"], elem_id="tune-files")
                gr.Examples([[[str(bundled_examples()["astronaut"])]]], inputs=[files], label="Example photo")
                align = gr.Checkbox(value=True, label="Detect and align faces first", elem_id="tune-align")
                preset = gr.Radio(sorted(TUNE_PRESETS), value="pti", label="Preset", elem_id="tune-preset")
                steps = gr.Slider(10, web.settings.max_steps, step=10, label="Tuning steps", elem_id="tune-steps",
                                  value=min(TUNE_PRESETS["pti"].steps, web.settings.max_steps))
                with gr.Row():
                    run = gr.Button("Tune", variant="primary", elem_id="tune-run")
                    stop = gr.Button("Stop", variant="stop", elem_id="tune-stop")
            with gr.Column(scale=2):
                status = gr.Markdown("Upload photos and press **Tune**.", elem_id="tune-status")
                current = gr.Image(label="Current render", format="png", interactive=False, elem_id="tune-preview")
        results = gr.Image(label="Target | pivot (W) | tuned (one row per photo)", format="png", interactive=False,
                           elem_id="tune-results", buttons=["download", "fullscreen"])
        downloads = gr.File(label="Downloads (pivot .npz, delta .safetensors, PNGs)", file_count="multiple",
                            interactive=False, elem_id="tune-downloads")

    @user_errors
    def run_tune(files, align, preset, steps, request: gr.Request):
        yield from _run(web, files, align, preset, steps, request)

    preset.change(lambda p: min(TUNE_PRESETS[p].steps, web.settings.max_steps), preset, steps, queue=False)
    stop.click(web.stop_run, None, None, queue=False)
    run.click(run_tune, [files, align, preset, steps], [status, current, results, downloads], **web.compute())


def _run(web: WebContext, files, align: bool, preset: str, steps: float, request: gr.Request):
    paths, folder, stop = web.start_run(files, request, "tune")
    job = TuneJob(paths, folder, TuneOptions(preset, steps=int(steps)), align=align)
    view = TuneView()
    for kind, value in in_background(lambda emit: tune_files(web.ws, job, emit, stop), stop):
        if kind == "failed":
            raise value
        if kind == "done":
            yield view.final(value)
        elif view.take(value):
            yield view.status, view.picture, None, None


class TuneView:
    """Status line, notices and the latest render, refreshed at most every REFRESH_SECONDS."""

    def __init__(self) -> None:
        self.status, self.picture, self.phase, self.notices, self.last = "", None, "", [], 0.0

    def take(self, event) -> bool:
        """Record an event; True when the page should be refreshed now."""
        if isinstance(event, Notice):
            self.notices.append(public(f"{event.kind}: {event.text}"))
        elif isinstance(event, BatchStarted):
            self.phase = f"Pivot embedding of {event.size} photo(s)"
        elif isinstance(event, TuningStarted):
            self.phase = f"Tuning photo {event.index + 1}/{event.count} ({event.name})"
        elif isinstance(event, (StepDone, TuneStepDone)) and time.monotonic() - self.last > REFRESH_SECONDS:
            state = event.state
            psnr = float(state.psnr.mean()) if isinstance(event, StepDone) else state.psnr
            images = state.images if isinstance(event, StepDone) else state.image
            self.last, self.picture = time.monotonic(), preview(images)
            self.status = "\n\n".join([f"{self.phase}: step {state.step + 1}/{state.total_steps}, PSNR {psnr:.2f} dB",
                                       *[f"- {n}" for n in self.notices[-8:]]])
            return True
        return False

    def final(self, result) -> tuple:
        done = "Stopped; the photos finished so far are below" if result.interrupted else "Done"
        lines = [f"{done}: {len(result.images)} photo(s) tuned."]
        lines += [f"- {img.name}: {img.pivot_psnr:.2f} dB (pivot) -> {img.psnr:.2f} dB (tuned), delta "
                  f"{img.delta.stat().st_size / 1024:.0f} KiB" for img in result.images]
        sheet = enlarged(*(img.compare for img in result.images)) if result.images else None
        files = file_list([f for img in result.images for f in img.files()])
        return "\n".join(lines), self.picture, sheet, files or None
