"""The CUDA kernels, run by Numba's CUDA simulator on the CPU, against the CPU kernels.

The simulator must be switched on before Numba is imported, so the comparison runs in
a child process with NUMBA_ENABLE_CUDASIM=1; this test process keeps the real Numba.
Shapes are tiny: the simulator runs every device thread as a Python thread.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = textwrap.dedent("""
    import json
    import numpy as np
    from deepnag.loss import soft_dtw_cuda
    from deepnag.loss.soft_dtw_autograd import sakoe_chiba_band
    from deepnag.loss.soft_dtw_cpu import soft_dtw_cpu
    from numba import config, cuda
    assert config.ENABLE_CUDASIM
    out = []
    rng = np.random.default_rng(0)
    # (N, M, bandwidth, threads): threads < N makes a thread loop over several rows
    for n, m, w, threads in [(5, 7, None, 2), (7, 4, 1.0, 3), (6, 6, 1.0, 4)]:
        cost = rng.uniform(0, 2, (2, n, m))
        lo, hi = sakoe_chiba_band(n, m, w)
        val, E = soft_dtw_cuda.soft_dtw_device_arrays(cost, np.array(lo), np.array(hi), 0.1, True, threads)
        z = np.zeros((2, n)), np.zeros((2, m))
        ref = soft_dtw_cpu(cost, z[0], z[1], 1.0, lo, hi, 0.1, True, 1, np.zeros((2, n, m)))
        ref_val, ref_E = ref.val, ref.E
        out.append([float(np.abs(val - ref_val).max()), float(np.abs(E - ref_E).max()), bool(np.isfinite(val).all())])
    # float32 costs of a longer pair: R and E stay float64 inside, so only the final rounding differs
    n, m = 120, 60
    cost = rng.uniform(0, 2, (2, n, m)).astype(np.float32)
    lo, hi = sakoe_chiba_band(n, m, None)
    val, E = soft_dtw_cuda.soft_dtw_device_arrays(cost, np.array(lo), np.array(hi), 0.1, True, 16)
    z = np.zeros((2, n)), np.zeros((2, m))
    ref = soft_dtw_cpu(cost.astype(np.float64), z[0], z[1], 1.0, lo, hi, 0.1, True, 1, np.zeros((2, n, m)))
    f32 = [str(val.dtype), str(E.dtype), float(np.abs(val / ref.val - 1).max()), float(np.abs(E - ref.E).max())]
    print(json.dumps({"simulator": bool(cuda.is_available()), "cases": out, "float32": f32}))
""")


def test_cuda_kernels_under_the_simulator_match_the_cpu_kernels():
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, "-c", CHILD], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(result["cases"]) == 3
    for val_err, e_err, finite in result["cases"]:
        assert finite
        assert val_err < 1e-10
        assert e_err < 1e-10
    val_dtype, e_dtype, val_rel_err, e_err = result["float32"]
    assert (val_dtype, e_dtype) == ("float32", "float32")
    assert val_rel_err < 1e-6  # float32 rounding of the result; float32 inside gave 1e-4 on E
    assert e_err < 1e-6


def test_the_cuda_module_imports_without_a_gpu_and_kernels_stay_uncompiled():
    """In a fresh process: in this one, tests/test_cuda_device.py may already have launched the kernels on a GPU."""
    check = ("import deepnag.loss.soft_dtw_cuda as mod; assert mod.MAX_THREADS >= 1; "
             "assert not mod._forward_kernel.overloads, 'compiled at import'; print('ok')")
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, "-c", check], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
