"""Process-level tuning for CPU runs."""
from __future__ import annotations

import ctypes
import os
import sys

_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4
_tuned = False


def keep_freed_memory() -> bool:
    """Make glibc keep freed blocks for reuse instead of returning them to the OS.

    By default glibc serves blocks over 32 MB with fresh `mmap` pages, so every large
    activation of a batched step page-faults and is zero-filled again (measured: batch 4 at
    config-f 64² took 0.55 s per image-step, 0.37 s with this). Called once per process by
    `embed` on CPU; memory then stays at its peak until exit. Set WPLUS_NO_MALLOC_TUNING=1
    to opt out. Returns True when applied.
    """
    global _tuned
    if _tuned or os.environ.get("WPLUS_NO_MALLOC_TUNING") or not sys.platform.startswith("linux"):
        return _tuned
    try:
        libc = ctypes.CDLL("libc.so.6")
        _tuned = bool(libc.mallopt(_M_MMAP_MAX, 0)) and bool(libc.mallopt(_M_TRIM_THRESHOLD, 1 << 31))
    except (OSError, AttributeError):
        _tuned = False
    return _tuned
