"""The CUDA path on a real GPU: soft-DTW, the loss and both trainers against the CPU path.

These need a CUDA device, so on a CPU-only machine (CI) they are reported as skipped
with the reason below; the kernels' arithmetic is still checked there by
``test_soft_dtw_cuda.py`` under Numba's CUDA simulator. On a GPU machine run
``python -m pytest -rs tests/test_cuda_device.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import main
from deepnag import checkpoint
from deepnag.cli import parse_args
from deepnag.data.batches import load_data_for
from deepnag.loss.objective import deepnag_loss, gradient_penalty
from deepnag.loss.soft_dtw_autograd import soft_dtw, soft_dtw_pairs
from deepnag.models import Critic, DifferentiableGRU
from deepnag.train.methods import DeepGANMethod, RandomStreams

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


@pytest.mark.parametrize("twice_differentiable", [False, True])  # cuDNN / ATen's fused cells
def test_gru_layer_on_the_gpu_matches_the_unrolled_cpu_layer(twice_differentiable):
    torch.manual_seed(0)
    gru = DifferentiableGRU(5, 7).double()
    x = torch.randn(3, 40, 5, dtype=torch.float64)
    weights = torch.randn(3, 40, 7, dtype=torch.float64)
    results = []
    for device in ("cpu", CUDA):
        gru.to(device)
        xd = x.to(device).requires_grad_()
        out, h = gru(xd, twice_differentiable)
        grads = torch.autograd.grad((out * weights.to(device)).sum(), [xd, *gru.parameters()])
        results.append([t.detach().cpu() for t in (out, h, *grads)])
    for cpu, cuda in zip(*results):
        assert (cpu - cuda).abs().max() <= 1e-10


def test_gru_layer_on_the_gpu_supports_double_backward():
    torch.manual_seed(0)
    gru = DifferentiableGRU(2, 3).double().to(CUDA)
    x = torch.randn(2, 4, 2, dtype=torch.float64, device=CUDA, requires_grad=True)
    assert torch.autograd.gradgradcheck(lambda t: gru(t, twice_differentiable=True)[0], (x,))


def test_gradient_penalty_and_its_weight_gradients_match_the_cpu_critic():
    torch.manual_seed(0)
    critic = Critic(num_classes=3, num_features=2).double()
    real, fake = torch.randn(4, 9, 2, dtype=torch.float64), torch.randn(4, 9, 2, dtype=torch.float64)
    labels, alpha = torch.tensor([0, 1, 2, 1]), torch.rand(4, dtype=torch.float64)
    results = []
    for device in ("cpu", CUDA):
        critic.to(device)
        penalty = gradient_penalty(critic, real.to(device), fake.to(device), labels.to(device), alpha.to(device))
        grads = torch.autograd.grad(penalty, list(critic.parameters()), allow_unused=True, materialize_grads=True)
        results.append([t.detach().cpu() for t in (penalty, *grads)])
    for cpu, cuda in zip(*results):
        assert (cpu - cuda).abs().max() <= 1e-9 * max(1.0, cpu.abs().max().item())


def _deepgan(shared_data, graphed: bool):
    """A DeepGAN method on a small dollar-gds subset on the GPU, critic step graphed or eager, and its data."""
    config = parse_args([f"--datapath={shared_data}", "--model=DeepGAN", "--dataset=dollar-gds", "--resample-n=24",
                         "--classes=arrow,star,circle", "--max-per-class=8", "--batch-size=6"])[0]
    data = load_data_for(config).to(CUDA)
    torch.manual_seed(0)
    method = DeepGANMethod(config, data, CUDA)
    method.use_cuda_graph = graphed
    return method, data


@pytest.fixture
def cudnn_in_full_float32():
    """The graphed and eager critic steps compute the GRU two ways: eager with cuDNN's RNN, graphed with ATen's
    cells (cuBLAS products; cuDNN's RNN is kept out of graphs). On Ampere and newer GPUs cuDNN's RNN runs its
    products in TF32 by default (`torch.backends.cudnn.allow_tf32` is True and ATen's cuDNN RNN takes its math type
    from it), rounding inputs to 10-bit mantissas, a relative error up to 2^-11 ≈ 5e-4 per product; cuBLAS's TF32
    is off by default (`torch.backends.cuda.matmul.allow_tf32`), so the graphed step stays in float32. A relative
    difference of that size is what exceeded rtol 1e-4 on an H200. With cuDNN's TF32 off both steps are float32
    and differ only in the order of their sums, which rtol 1e-4 covers."""
    with torch.backends.cudnn.flags(enabled=True, benchmark=False, deterministic=False, allow_tf32=False):
        yield


@pytest.mark.usefixtures("cudnn_in_full_float32")
def test_critic_gradients_replayed_from_a_cuda_graph_match_eager_ones(shared_data):
    (graphed, data), (eager, _) = _deepgan(shared_data, True), _deepgan(shared_data, False)
    streams = RandomStreams.seeded(0, CUDA)
    for _ in range(3):  # the first call captures the graph, the others replay it with new inputs
        real, labels, _ = data.random_batch(6, streams.data)
        batch = (real, torch.randn_like(real).tanh(), labels, torch.rand(6, device=CUDA))
        parts = [method._critic_gradients(*batch) for method in (graphed, eager)]
        assert all(torch.allclose(parts[0][k], parts[1][k], rtol=1e-4, atol=1e-6) for k in parts[1]), parts
        for p, q in zip(graphed.critic.parameters(), eager.critic.parameters()):
            assert torch.allclose(p.grad, q.grad, rtol=1e-4, atol=1e-4 * q.grad.abs().max().item())
    assert graphed.critic_graph is not None and eager.critic_graph is None


@pytest.mark.usefixtures("cudnn_in_full_float32")
def test_deepgan_epochs_with_a_cuda_graph_follow_eager_ones(shared_data):
    runs = []
    for graphed in (True, False):
        method, data = _deepgan(shared_data, graphed)
        # every weight but the head's bias, which cancels in mean(fake) - mean(real) and never moves
        trained = [p for name, p in method.critic.named_parameters() if name != "head.bias"]
        before = [p.detach().clone() for p in trained]
        streams = RandomStreams.seeded(0, CUDA)
        metrics = [method.run_epoch(data, streams) for _ in range(3)]
        runs.append((metrics, before, trained))
    (graph_metrics, before, graph_weights), (eager_metrics, _, eager_weights) = runs
    for a, b in zip(graph_metrics, eager_metrics):  # cuDNN (eager) and ATen's cells (graph) sum in other orders
        assert a.keys() == b.keys() and all(abs(a[k] - b[k]) <= 1e-3 * max(1.0, abs(b[k])) for k in a), (a, b)
    # Adam moves a weight by up to lr = 1e-4 per step whatever its gradient's size, so after 15 critic
    # steps rounding differences can reach a few lr (2e-4 measured on an H200).
    assert max((a - b).abs().max().item() for a, b in zip(graph_weights, eager_weights)) <= 5e-4
    assert min((a - b).abs().max().item() for a, b in zip(graph_weights, before)) > 5e-5  # every tensor trained


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
