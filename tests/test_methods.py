"""Training methods: the DeepGAN (WGAN-GP) baseline's learning signal, checkpoints, resume, evaluation; what
both methods add to their optimisers (learning-rate warm-up, the generator's weight average)."""

from __future__ import annotations

import pytest
import torch

import main
from deepnag import checkpoint
from deepnag.cli import parse_args
from deepnag.data.batches import load_data
from deepnag.train.methods import DeepGANMethod, DeepNAGMethod, RandomStreams, TrainingMethod, build_method
from tests.conftest import tiny

TINY = tiny("--model=DeepGAN", "--deepgan-critic-iters=2")


def _tiny_run(tmp_path, shared_data, epochs: int):
    """Train TINY DeepGAN for `epochs` in a fresh log folder; the path of its final checkpoint."""
    logdir = tmp_path / "a"
    assert main.main([f"--datapath={shared_data}", f"--logdir={logdir}", *TINY, f"--epochs={epochs}"]) == 0
    (run,) = list(logdir.iterdir())
    return run / "checkpoints" / "checkpoint-final.pt"


def test_critic_loss_on_a_fixed_batch_goes_down(shared_data):
    config = parse_args(["--model=DeepGAN", "--resample-n=12", "--batch-size=8", "--deepgan-critic-iters=10"])[0]
    data = load_data("dollar-gds", str(shared_data), resample_n=12, classes=("arrow", "star"), max_per_class=4)
    torch.manual_seed(0)
    method = DeepGANMethod(config, data, torch.device("cpu"))
    streams = RandomStreams.seeded(0, torch.device("cpu"))
    real, labels = data.samples, data.labels
    with torch.no_grad():
        fake = method.generator(torch.randn(len(labels), 12, config.latent_dim), labels)

    def critic_loss() -> float:
        with torch.no_grad():
            return (method.critic(fake, labels).mean() - method.critic(real, labels).mean()).item()

    before = critic_loss()
    metrics = method.run_epoch(data, streams)
    assert critic_loss() < before - 1e-3
    assert set(metrics) == {"loss_d", "neg_loss_d", "loss_d_real", "loss_d_fake", "wasserstein",
                            "gradient_penalty", "loss_g"}
    assert abs(metrics["neg_loss_d"] + metrics["loss_d"]) < 1e-9


def test_deepgan_checkpoint_resume_and_evaluate(tmp_path, shared_data):
    def run(folder, *extra):
        assert main.main([f"--datapath={shared_data}", f"--logdir={tmp_path / folder}", *TINY, *extra]) == 0
        (path,) = list((tmp_path / folder).iterdir())
        return path

    straight = run("a", "--epochs=4")
    resumed = run("b", "--epochs=2")
    assert main.main([f"--resume={resumed / 'checkpoints' / 'checkpoint-final.pt'}", "--epochs=4"]) == 0
    a = torch.load(straight / "checkpoints" / "checkpoint-final.pt", weights_only=True)
    b = torch.load(resumed / "checkpoints" / "checkpoint-final.pt", weights_only=True)
    assert a["model"] == "DeepGAN" and set(a["optimizers"]) == {"generator", "critic"}
    for part in ("generator", "critic"):
        assert max((a[part][k] - b[part][k]).abs().max().item() for k in a[part]) <= 1e-6
    assert main.main([f"--evaluate={straight / 'checkpoints' / 'checkpoint-best.pt'}"]) == 0
    assert (straight / "evaluation" / "checkpoint-best" / "samples.png").stat().st_size > 1000


def test_a_networks_only_checkpoint_continues_deepgan_in_a_new_run(tmp_path, shared_data):
    """Generator and critic weights without optimiser state (a release's networks.pt) continue DeepGAN."""
    state = torch.load(_tiny_run(tmp_path, shared_data, epochs=2), weights_only=True)
    weights = tmp_path / "networks.pt"
    checkpoint.save(checkpoint.networks_only(state), weights)
    assert "optimizers" not in torch.load(weights, weights_only=True)
    # At the checkpoint's own epoch count nothing would train: refused with one line, nothing written.
    assert main.main([f"--resume={weights}", "--epochs=2", f"--logdir={tmp_path / 'same'}", f"--datapath={shared_data}"]) == 2
    assert not (tmp_path / "same").exists()
    more_dir = tmp_path / "more"
    assert main.main([f"--resume={weights}", "--epochs=3", f"--logdir={more_dir}", f"--datapath={shared_data}"]) == 0
    (run,) = list(more_dir.iterdir())
    log = (run / "logs" / "train.log").read_text()
    assert "continuing the networks-only checkpoint" in log and "starts afresh" not in log  # both networks loaded
    final = torch.load(run / "checkpoints" / "checkpoint-final.pt", weights_only=True)
    assert final["epoch"] == 3 and final["kind"] == "full"
    assert any(not torch.equal(final["critic"][k], state["critic"][k]) for k in state["critic"])


class EagerGraph:
    """A stand-in for GraphedBackward with its contract (fresh .grad, detached copies), run eagerly on the CPU."""

    def __init__(self, fn, params, example_inputs):
        self.fn, self.params, self.calls = fn, params, 0

    def __call__(self, *inputs):
        self.calls += 1
        for p in self.params:
            p.grad = None
        outputs = self.fn(*inputs)
        outputs["loss"].backward()
        return {name: value.detach().clone() for name, value in outputs.items()}


def _two_epochs(shared_data, graphed: bool):
    config = parse_args(["--model=DeepGAN", "--resample-n=12", "--batch-size=4", "--deepgan-critic-iters=3"])[0]
    data = load_data("dollar-gds", str(shared_data), resample_n=12, classes=("arrow", "star"), max_per_class=4)
    torch.manual_seed(0)
    method = DeepGANMethod(config, data, torch.device("cpu"))
    method.use_cuda_graph = graphed
    streams = RandomStreams.seeded(0, torch.device("cpu"))
    metrics = [method.run_epoch(data, streams) for _ in range(2)]
    return method, metrics






def test_a_generator_only_deepgan_checkpoint_continues_with_a_fresh_critic(tmp_path, shared_data, capsys):
    state = torch.load(_tiny_run(tmp_path, shared_data, epochs=2), weights_only=True)
    generator = tmp_path / "generator.pt"
    checkpoint.save(checkpoint.generator_only(state), generator)
    assert main.main([f"--resume={generator}", f"--datapath={shared_data}", f"--logdir={tmp_path}/x"]) == 2
    assert "or add --fresh-critic" in capsys.readouterr().err
    more_dir = tmp_path / "more"
    assert main.main([f"--resume={generator}", "--fresh-critic", "--epochs=3", f"--logdir={more_dir}",
                      f"--datapath={shared_data}"]) == 0
    (run,) = list(more_dir.iterdir())
    assert f"the critic starts afresh: {generator} holds no critic" in (run / "logs" / "train.log").read_text()
    final = torch.load(run / "checkpoints" / "checkpoint-final.pt", weights_only=True)
    assert final["epoch"] == 3 and final["critic"].keys() == state["critic"].keys()
    moved = max((final["generator"][k] - v).abs().max().item() for k, v in state["generator"].items())
    assert 0 < moved <= 1e-3  # one Adam step (lr 1e-4) from the saved generator, not from a new one


def test_fresh_critic_flag_errors(tmp_path, shared_data, capsys):
    assert main.main(["--fresh-critic"]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "error: --fresh-critic applies to --resume only, not to training")
    full = _tiny_run(tmp_path, shared_data, epochs=1)
    assert main.main([f"--resume={full}", "--fresh-critic", "--epochs=2"]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"error: --fresh-critic is for a generator-only DeepGAN checkpoint; {full} is a full DeepGAN checkpoint, "
        "so resume it without --fresh-critic")


def _learning_rates(method, data, streams, epochs: int) -> list[float]:
    """The generator's learning rate at each of its steps over `epochs` epochs."""
    rates: list[float] = []
    method.optimizers["generator"].register_step_pre_hook(
        lambda optimizer, args, kwargs: rates.append(optimizer.param_groups[0]["lr"]))
    for _ in range(epochs):
        method.run_epoch(data, streams)
    return rates


@pytest.mark.parametrize("model", ["DeepNAG", "DeepGAN"])
def test_the_learning_rate_warms_up_linearly_then_stays(shared_data, model):
    config = parse_args([f"--model={model}", "--resample-n=12", "--batch-size=4", "--lr=1e-3", "--lr-warmup=4",
                         "--deepgan-critic-iters=1"])[0]
    data = load_data("dollar-gds", str(shared_data), resample_n=12, classes=("arrow", "star"), max_per_class=4)
    method = build_method(config, data, torch.device("cpu"))
    assert isinstance(method, TrainingMethod) and type(method) is {"DeepNAG": DeepNAGMethod, "DeepGAN": DeepGANMethod}[model]
    rates = _learning_rates(method, data, RandomStreams.seeded(0, torch.device("cpu")), 3 if model == "DeepNAG" else 6)
    assert rates == pytest.approx([0.25e-3, 0.5e-3, 0.75e-3, 1e-3, 1e-3, 1e-3])
    assert method.optimizers["critic" if model == "DeepGAN" else "generator"].param_groups[0]["lr"] == pytest.approx(1e-3)


def test_without_warm_up_the_learning_rate_is_the_flag_from_the_first_step(shared_data):
    config = parse_args(["--resample-n=12", "--batch-size=4", "--lr=2e-4"])[0]
    data = load_data("dollar-gds", str(shared_data), resample_n=12, classes=("arrow", "star"), max_per_class=4)
    method = DeepNAGMethod(config, data, torch.device("cpu"))
    assert _learning_rates(method, data, RandomStreams.seeded(0, torch.device("cpu")), 2) == pytest.approx([2e-4] * 4)


def test_with_ema_sampling_uses_the_weight_average(shared_data):
    config = parse_args(["--resample-n=12", "--batch-size=4", "--lr=1e-3", "--ema=0.9"])[0]
    data = load_data("dollar-gds", str(shared_data), resample_n=12, classes=("arrow", "star"), max_per_class=4)
    method = DeepNAGMethod(config, data, torch.device("cpu"))
    assert set(method.networks) == {"generator", checkpoint.TRAINING_GENERATOR}
    assert method.networks[checkpoint.TRAINING_GENERATOR] is method.generator
    before = {k: v.clone() for k, v in method.generator.state_dict().items()}
    method.run_epoch(data, RandomStreams.seeded(0, torch.device("cpu")))
    sampler = method.optimisation.sampler
    assert sampler is method.networks["generator"] and sampler is not method.generator
    assert method.optimisation.average.updates == 2  # one per step
    trained = method.generator.state_dict()
    name = "head.bias"
    assert not torch.equal(sampler.state_dict()[name], trained[name])
    assert not torch.equal(trained[name], before[name])
    plain = DeepNAGMethod(parse_args(["--resample-n=12"])[0], data, torch.device("cpu"))
    assert plain.optimisation.sampler is plain.generator and set(plain.networks) == {"generator"}
