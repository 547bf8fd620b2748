"""Per-browser-session state kept on the server: an output folder and a stop flag each."""
from __future__ import annotations

import itertools
import shutil
import threading
from pathlib import Path


class Sessions:
    """Every session's files live under `root/<session id>/`, removed when the page closes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._stops: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._runs = itertools.count(1)

    def folder(self, session: str) -> Path:
        path = self.root / session
        path.mkdir(parents=True, exist_ok=True)
        return path

    def run_folder(self, session: str, task: str) -> Path:
        """A new folder for one task run of `session` (runs never overwrite each other's files)."""
        path = self.folder(session) / f"{task}-{next(self._runs):04d}"
        path.mkdir()
        return path

    def stop_flag(self, session: str) -> threading.Event:
        with self._lock:
            return self._stops.setdefault(session, threading.Event())

    def close(self, session: str) -> None:
        """Forget a session: stop its run, delete its files."""
        with self._lock:
            flag = self._stops.pop(session, None)
        if flag is not None:
            flag.set()
        shutil.rmtree(self.root / session, ignore_errors=True)

    def close_all(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
