"""The browser UI: a Gradio app over `wplus.app` (install with `pip install 'wplus[web]'`).

Nothing is fetched from the internet at run time: Gradio's analytics and version check are
off, and the theme uses the system's fonts.
"""
import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

from .server import ServerSettings, build_app, serve  # noqa: E402  (after the environment is set)

__all__ = ["ServerSettings", "build_app", "serve"]
