"""The CUDA path on a real GPU: soft-DTW, the loss and both trainers against the CPU path.

These need a CUDA device, so on a CPU-only machine (CI) they are reported as skipped
with the reason below; the kernels' arithmetic is still checked there by
``test_soft_dtw_cuda_sim.py`` under Numba's CUDA simulator. On a GPU machine run
``python -m pytest -rs tests/test_cuda_device.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import main
from deepnag import checkpoint
from deepnag.losses import deepnag_loss
from deepnag.soft_dtw import soft_dtw, soft_dtw_pairs

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(),
                                reason="needs a CUDA GPU; the simulator tests cover the kernels on CPU")

CUDA = torch.device("cuda")


def _both(fn, *inputs: torch.Tensor) -> tuple[tuple[torch.Tensor, ...], tuple[torch.Tensor, ...]]:
    """fn's value and input gradients (of a fixed random weighting) on CPU and on CUDA, both returned on CPU."""
    weights = torch.randn(fn(*inputs).shape, dtype=inputs[0].dtype, generator=torch.Generator().manual_seed(7))
    results = []
    for device in ("cpu", CUDA):
        xs = [x.detach().to(device).requires_grad_() for x in inputs]
        value = fn(*xs)
        grads = torch.autograd.grad((value * weights.to(device)).sum(), xs)
        results.append((value.detach().cpu(), *(g.cpu() for g in grads)))
    return results[0], results[1]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("n, m, bandwidth", [(7, 9, None), (12, 10, 0.3), (300, 40, None)],
                         ids=["small", "band", "more-rows-than-threads"])
def test_soft_dtw_of_a_cost_matches_the_float64_cpu_kernel(dtype, n, m, bandwidth):
    """The kernels keep R and E in float64, so float32 costs lose only the final rounding, even at 300 steps."""
    cost = (torch.rand(5, n, m, dtype=torch.float64, generator=torch.Generator().manual_seed(n)) * 2).to(dtype)
    reference, _ = _both(lambda c: soft_dtw(c, 0.1, bandwidth), cost.double())
    _, gpu = _both(lambda c: soft_dtw(c, 0.1, bandwidth), cost)
    assert torch.isfinite(gpu[0]).all() and gpu[0].dtype == dtype
    tol = {torch.float64: 1e-9, torch.float32: 2e-6}[dtype]
    for a, b in zip(reference, gpu):
        torch.testing.assert_close(b.double(), a, rtol=tol, atol=tol)


@pytest.mark.parametrize("distance", ["ed", "cos"])
def test_soft_dtw_pairs_match_the_cpu_path(distance):
    gen = torch.Generator().manual_seed(3)
    x, y = torch.randn(6, 16, 3, generator=gen), torch.randn(6, 11, 3, generator=gen)
    cpu, gpu = _both(lambda a, b: soft_dtw_pairs(a, b, 0.1, distance), x, y)
    for a, b in zip(cpu, gpu):
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-4)


def test_gradcheck_on_the_gpu():
    gen = torch.Generator().manual_seed(5)
    cost = (torch.rand(3, 6, 5, dtype=torch.float64, generator=gen) * 2).to(CUDA).requires_grad_()
    assert torch.autograd.gradcheck(lambda c: soft_dtw(c, 0.5), (cost,))
    x = torch.randn(2, 7, 2, dtype=torch.float64, generator=gen).to(CUDA).requires_grad_()
    y = torch.randn(2, 5, 2, dtype=torch.float64, generator=gen).to(CUDA).requires_grad_()
    assert torch.autograd.gradcheck(lambda a, b: soft_dtw_pairs(a, b, 0.5, "cos"), (x, y))


def test_deepnag_loss_and_its_gradient_match_the_cpu_path():
    gen = torch.Generator().manual_seed(11)
    real_1, real_2, fake_2 = (torch.rand(12, 32, 2, generator=gen) * 2 - 1 for _ in range(3))
    fake_1 = torch.rand(12, 32, 2, generator=gen) * 2 - 1
    labels = torch.arange(3).repeat(4)
    values = []
    for device in ("cpu", CUDA):
        f1 = fake_1.to(device).requires_grad_()
        loss, _ = deepnag_loss(real_1.to(device), real_2.to(device), f1, fake_2.to(device), labels.to(device))
        (grad,) = torch.autograd.grad(loss, f1)
        values.append((loss.detach().cpu(), grad.cpu()))
    (cpu_loss, cpu_grad), (gpu_loss, gpu_grad) = values
    torch.testing.assert_close(gpu_loss, cpu_loss, rtol=1e-4, atol=1e-3)
    torch.testing.assert_close(gpu_grad, cpu_grad, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("model", ["DeepNAG", "DeepGAN"])
def test_training_on_the_gpu_writes_checkpoints_that_load_on_cpu(tmp_path: Path, shared_data, model):
    logdir = tmp_path / "logs"
    flags = [f"--datapath={shared_data}", f"--logdir={logdir}", f"--model={model}", "--device=cuda",
             "--dataset=dollar-gds", "--classes=arrow,star,circle", "--max-per-class=4", "--resample-n=16",
             "--batch-size=6", "--epochs=3", "--checkpoint-frequency=3", "--vis-frequency=2"]
    assert main.main(flags) == 0
    (run,) = list(logdir.iterdir())
    state = checkpoint.load(run / "checkpoints" / "checkpoint-final.pt")  # map_location="cpu"
    assert state["epoch"] == 3
    assert all(t.device.type == "cpu" and torch.isfinite(t).all() for t in state["generator"].values())
    out = tmp_path / "samples.npz"
    assert main.main(["--generate", str(run / "checkpoints" / "checkpoint-final.pt"), "--device=cpu",
                      f"--output={out}", "--num-per-class=2"]) == 0
    assert out.is_file()
