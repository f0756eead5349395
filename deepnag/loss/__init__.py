"""The DeepNAG loss: frame costs → soft-DTW (Numba CPU / CUDA kernels) → class-aware Hausdorff → the objective.

`soft_dtw` and the `SoftDTW` module are usable on their own, for any batch of
sequences: see docs/python.md.
"""

from deepnag.loss.soft_dtw_autograd import SoftDTW, soft_dtw

__all__ = ["SoftDTW", "soft_dtw"]
