"""DeepNAG: deep non-adversarial gesture generation (IUI 2021), reimplemented.

The Python API is `deepnag.load_generator(path)` (see `deepnag.api`) and the
reusable soft-DTW in `deepnag.loss` (`soft_dtw`, `SoftDTW`). They are imported
on first use, so that `import deepnag` stays light and leaves the OpenMP
setting of `deepnag.runtime` to the entry point.
"""

from __future__ import annotations

from typing import Any

from deepnag._version import __version__

_API = {"load_generator", "GestureGenerator"}


def __getattr__(name: str) -> Any:
    if name in _API:
        from deepnag import api

        return getattr(api, name)
    raise AttributeError(f"module 'deepnag' has no attribute {name!r}")


__all__ = ["GestureGenerator", "__version__", "load_generator"]
