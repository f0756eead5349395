"""DeepNAG: deep non-adversarial gesture generation (IUI 2021), reimplemented.

The Python API is `deepnag.load_generator(path)` (see `deepnag.api`) and the
reusable soft-DTW in `deepnag.loss` (`soft_dtw`, `SoftDTW`). They are imported
on first use, so that `import deepnag` stays light. Importing the package
applies the OpenMP setting of `deepnag.runtime` (a short spin of torch's idle
threads, unless GOMP_SPINCOUNT is set) when torch is not loaded yet, so that the
API is as fast as the command line: import deepnag before torch.
"""

from __future__ import annotations

from typing import Any

from deepnag._version import __version__
from deepnag.runtime import configure_openmp

configure_openmp()  # whatever the entry point (main.py, the deepnag command, the API), before torch loads

_API = {"load_generator", "GestureGenerator", "augment", "study", "Study"}


def __getattr__(name: str) -> Any:
    if name in _API:
        from deepnag import api

        return getattr(api, name)
    raise AttributeError(f"module 'deepnag' has no attribute {name!r}")


__all__ = ["GestureGenerator", "__version__", "augment", "load_generator"]
