"""DeepNAG end to end: run directory, checkpoints, resume, evaluation, bad inputs."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import main
from deepnag import checkpoint
from deepnag.cli import parse_args
from deepnag.data.batches import load_data, load_data_for
from deepnag.errors import UserError
from deepnag.train.methods import DeepNAGMethod, RandomStreams
from tests.conftest import ROOT, tiny

TINY = tiny("--resample-n=16", "--batch-size=6", "--vis-frequency=2", "--checkpoint-frequency=2")
DOLLAR = ["--dataset=dollar-gds", "--classes=arrow,star,circle"]
JK = ["--dataset=jk2017-kinect", "--classes=duck,push"]
LEAP = ["--dataset=jk2017-leap", "--classes=love,knock_x3"]


def _train(tmp_path: Path, shared_data: Path, *flags: str) -> Path:
    logdir = tmp_path / "logs"
    assert main.main([f"--datapath={shared_data}", f"--logdir={logdir}", *TINY, *flags]) == 0
    (run,) = list(logdir.iterdir())
    return run


def _parameters(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, weights_only=True)["generator"]


@pytest.mark.parametrize("dataset", [DOLLAR, JK, LEAP], ids=["dollar-gds", "jk2017-kinect", "jk2017-leap"])
def test_tiny_training_writes_a_complete_run_directory(tmp_path, shared_data, dataset):
    run = _train(tmp_path, shared_data, *dataset, "--epochs=3", "--experiment-name=smoke")
    assert run.name.startswith(f"{dataset[0].split('=')[1]}-DeepNAG-") and run.name.endswith("-smoke")
    config = json.loads((run / "config.json").read_text())
    assert config["epochs"] == 3 and config["seed"] == 1234 and config["model"] == "DeepNAG"
    log = (run / "logs" / "train.log").read_text()
    assert "epoch 3/3" in log and "ETA" in log and "final checkpoint" in log
    assert list((run / "tensorboard").glob("events.out.tfevents.*"))
    names = sorted(p.name for p in (run / "checkpoints").iterdir())
    assert names == ["checkpoint-best.pt", "checkpoint-epoch-2.pt", "checkpoint-final.pt"]
    state = torch.load(run / "checkpoints" / "checkpoint-final.pt", weights_only=True)
    assert state["epoch"] == 3 and state["model"] == "DeepNAG" and state["kind"] == "full"
    assert isinstance(state["normalizer"]["minimum"], torch.Tensor)
    assert "generator" in state["optimizers"] and set(state["rng"]) == {"data", "latent"}


def test_tensorboard_holds_losses_best_and_figures(tmp_path, shared_data):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = _train(tmp_path, shared_data, *DOLLAR, "--epochs=2")
    events = EventAccumulator(str(run / "tensorboard"), size_guidance={"images": 0}).Reload()
    tags = events.Tags()
    assert {"train/loss", "train/loss_ed", "train/loss_cos", "train/loss_resample", "train/best_loss"} <= set(tags["scalars"])
    assert [e.step for e in events.Scalars("train/loss")] == [1, 2]
    assert "samples" in tags["images"] and [e.step for e in events.Images("samples")] == [1, 2]


def test_loss_goes_down_on_a_small_fixed_subset(shared_data):
    torch.manual_seed(0)
    config = parse_args(["--resample-n=16", "--batch-size=8"])[0]
    data = load_data("dollar-gds", str(shared_data), resample_n=16, classes=("arrow", "circle"), max_per_class=4)
    method = DeepNAGMethod(config, data, torch.device("cpu"))
    streams = RandomStreams.seeded(0, torch.device("cpu"))
    losses = [method.run_epoch(data, streams)["loss"] for _ in range(50)]
    assert np.mean(losses[-5:]) < 0.8 * np.mean(losses[:5])


@pytest.mark.parametrize("recipe", [[], ["--recipe=fast", "--lr-warmup=5"]], ids=["reference", "fast"])
def test_resume_equals_an_uninterrupted_run(tmp_path, shared_data, recipe):
    """Also mid-way through the fast recipe's warm-up, with its weight average (2 steps an epoch, 5 to warm up)."""
    straight = _train(tmp_path / "a", shared_data, *DOLLAR, *recipe, "--epochs=4")
    first = _train(tmp_path / "b", shared_data, *DOLLAR, *recipe, "--epochs=2")
    assert main.main([f"--resume={first / 'checkpoints' / 'checkpoint-final.pt'}", "--epochs=4"]) == 0
    a = torch.load(straight / "checkpoints" / "checkpoint-final.pt", weights_only=True)
    b = torch.load(first / "checkpoints" / "checkpoint-final.pt", weights_only=True)
    networks = ["generator", checkpoint.TRAINING_GENERATOR] if recipe else ["generator"]
    assert [k for k in a if "generator" in k and k != "versions"] == networks
    for network in networks:
        assert max((a[network][k] - b[network][k]).abs().max().item() for k in a[network]) <= 1e-6, network
    assert a["optimisation"] == b["optimisation"]
    assert b["optimisation"]["average_updates"] == (8 if recipe else 0)
    assert b["epoch"] == 4
    assert "resuming" in (first / "logs" / "train.log").read_text()



def test_chain_variants_train_on_the_grown_set_and_resume_on_the_same_one(tmp_path, shared_data):
    """--chain-variants=2 trains on three times the real samples; a resumed run rebuilds the same set (seeded)."""
    flags = (*DOLLAR, "--max-per-class=4", "--chain-variants=2")
    straight = _train(tmp_path / "a", shared_data, *flags, "--epochs=3")
    first = _train(tmp_path / "b", shared_data, *flags, "--epochs=2")
    assert "dollar-gds: 36 samples, 3 classes" in (straight / "logs" / "train.log").read_text()  # 3 × 4 × (1 + 2)
    assert json.loads((straight / "config.json").read_text())["chain_variants"] == 2
    assert main.main([f"--resume={first / 'checkpoints' / 'checkpoint-final.pt'}", "--epochs=3"]) == 0
    assert "dollar-gds: 36 samples" in (first / "logs" / "train.log").read_text().split("resuming")[-1]
    a, b = (_parameters(run / "checkpoints" / "checkpoint-final.pt") for run in (straight, first))
    assert all(torch.equal(a[k], b[k]) for k in a)
    plain = _train(tmp_path / "c", shared_data, *DOLLAR, "--max-per-class=4", "--epochs=1")
    assert "dollar-gds: 12 samples, 3 classes" in (plain / "logs" / "train.log").read_text()


def test_resume_says_how_many_epochs_it_ran_and_refuses_to_run_none(tmp_path, shared_data, capsys):
    first = _train(tmp_path, shared_data, *DOLLAR, "--epochs=2")
    final = first / "checkpoints" / "checkpoint-final.pt"
    capsys.readouterr()
    for epochs in ("--epochs=2", "--epochs=1"):
        assert main.main([f"--resume={final}", epochs]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err == [f"error: {final} has already trained 2 epochs, so {epochs} leaves nothing to train; "
                       "give --epochs greater than 2 (e.g. --epochs=1002)"]
    assert torch.load(final, weights_only=True)["epoch"] == 2  # nothing was written
    assert main.main([f"--resume={final}", "--epochs=3"]) == 0
    assert "done: 1 epoch in this run (3 of 3 in all)" in (first / "logs" / "train.log").read_text()


def test_a_generator_only_checkpoint_continues_in_a_new_run(tmp_path, shared_data, capsys):
    first = _train(tmp_path / "a", shared_data, *DOLLAR, "--epochs=2")
    state = torch.load(first / "checkpoints" / "checkpoint-final.pt", weights_only=True)
    shared = tmp_path / "generator.pt"
    checkpoint.save(checkpoint.generator_only(state), shared)
    logdir = tmp_path / "continued"
    # At or below the checkpoint's own epoch count nothing would train: refused, and nothing is written.
    capsys.readouterr()
    for epochs in ("--epochs=2", "--epochs=1"):
        assert main.main([f"--resume={shared}", epochs, f"--logdir={logdir}", f"--datapath={shared_data}"]) == 2
        assert capsys.readouterr().err.strip().splitlines() == [
            f"error: {shared} has already trained 2 epochs, so {epochs} leaves nothing to train; "
            "give --epochs greater than 2 (e.g. --epochs=1002)"]
    assert not logdir.exists()
    # One more epoch trains on from there with a new optimiser (at the --lr given, which the log says).
    assert main.main([f"--resume={shared}", "--epochs=3", f"--logdir={logdir}", f"--datapath={shared_data}",
                      "--lr=2e-4"]) == 0
    (run,) = list(logdir.iterdir())
    text = (run / "logs" / "train.log").read_text()
    assert run != first and "continuing the generator-only checkpoint" in text
    assert "from epoch 3 the learning rate goes on at --lr=0.0002 (the run's was 0.0001)" in text
    final = torch.load(run / "checkpoints" / "checkpoint-final.pt", weights_only=True)
    assert final["epoch"] == 3 and final["kind"] == "full"
    assert [g["lr"] for g in final["optimizers"]["generator"]["param_groups"]] == [pytest.approx(2e-4, rel=1e-12)]
    assert any(not torch.equal(final["generator"][k], state["generator"][k]) for k in state["generator"])
    assert "epoch 3/3" in (run / "logs" / "train.log").read_text()


def test_a_shipped_generator_continues_with_this_runs_output_settings_and_its_own_best(tmp_path, shared_data):
    """A release turns TensorBoard and periodic checkpoints off and records its best loss; a new run from it keeps
    none of that: it logs, checkpoints and measures its best as this command line (or the defaults) say."""
    first = _train(tmp_path / "a", shared_data, *DOLLAR, "--epochs=2")
    state = torch.load(first / "checkpoints" / "checkpoint-final.pt", weights_only=True)
    release = checkpoint.generator_only(state)
    release["config"] = {**release["config"], "use_tensorboard": 0, "checkpoint_frequency": 0, "logdir": "elsewhere"}
    release["best_loss"] = -1e9  # a loss no new run beats
    shared = tmp_path / "release" / "generator.pt"
    checkpoint.save(release, shared)
    logdir = tmp_path / "continued"
    assert main.main([f"--resume={shared}", "--epochs=4", "--checkpoint-frequency=1", f"--logdir={logdir}",
                      f"--datapath={shared_data}"]) == 0
    (run,) = list(logdir.iterdir())
    saved = json.loads((run / "config.json").read_text())
    assert (saved["use_tensorboard"], saved["checkpoint_frequency"], saved["logdir"]) == (1, 1, str(logdir))
    assert any((run / "tensorboard").iterdir())
    assert sorted(p.name for p in (run / "checkpoints").glob("checkpoint-epoch-*.pt")) == \
        ["checkpoint-epoch-3.pt", "checkpoint-epoch-4.pt"]
    best = torch.load(run / "checkpoints" / "checkpoint-best.pt", weights_only=True)
    assert best["best_loss"] > -1e9 and best["epoch"] in (3, 4)
    assert not (tmp_path / "release" / "checkpoints").exists() and not (tmp_path / "checkpoints").exists()


def test_a_full_checkpoint_outside_its_run_folder_starts_a_new_run_under_logdir(tmp_path, shared_data, capsys):
    """A moved checkpoint never writes two folders above itself: it continues in a new run directory."""
    first = _train(tmp_path / "a", shared_data, *DOLLAR, "--epochs=1")
    moved = tmp_path / "x" / "moved.pt"
    moved.parent.mkdir()
    moved.write_bytes((first / "checkpoints" / "checkpoint-final.pt").read_bytes())
    logdir = tmp_path / "runs"
    assert main.main([f"--resume={moved}", "--epochs=2", f"--logdir={logdir}", f"--datapath={shared_data}"]) == 0
    (run,) = list(logdir.iterdir())
    assert torch.load(run / "checkpoints" / "checkpoint-final.pt", weights_only=True)["epoch"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "runs", "x"] and sorted(os.listdir(moved.parent)) == ["moved.pt"]
    assert f"continuing {moved} from epoch 1 in a new run directory" in capsys.readouterr().err
    # Inside its run folder it resumes there, and says that --logdir does not move it.
    final = run / "checkpoints" / "checkpoint-final.pt"
    assert main.main([f"--resume={final}", "--epochs=3", f"--logdir={tmp_path / 'ignored'}"]) == 0
    assert f"resuming {run} from epoch 2 (writing into that run directory; --logdir applies to new runs only)" in \
        capsys.readouterr().err
    assert not (tmp_path / "ignored").exists()


def test_a_checkpoint_from_a_gpu_machine_resumes_on_this_one(tmp_path, shared_data):
    """--device and --num-threads describe the machine: a resumed run takes them from its own command line."""
    first = _train(tmp_path / "a", shared_data, *DOLLAR, "--epochs=1")
    state = torch.load(first / "checkpoints" / "checkpoint-final.pt", weights_only=True)
    state["config"] = {**state["config"], "device": "cuda", "num_threads": 64}
    moved = tmp_path / "from-gpu.pt"
    checkpoint.save(checkpoint.generator_only(state), moved)
    logdir = tmp_path / "continued"
    assert main.main([f"--resume={moved}", "--epochs=2", f"--logdir={logdir}", f"--datapath={shared_data}",
                      "--num-threads=1"]) == 0
    (run,) = list(logdir.iterdir())
    assert "DeepNAG on cpu, 1 threads" in (run / "logs" / "train.log").read_text()
    assert json.loads((run / "config.json").read_text())["device"] == "auto"


def test_a_generator_only_deepgan_checkpoint_cannot_continue(tmp_path, capsys):
    state = {"format": checkpoint.FORMAT, "format_version": checkpoint.FORMAT_VERSION, "kind": "generator",
             "model": "DeepGAN", "dataset": "dollar-gds", "config": parse_args(["--model=DeepGAN"])[0].to_dict(),
             "class_names": ["a"], "display_names": ["a"], "normalizer": checkpoint.normalizer_state([0], [1]),
             "num_features": 2, "seq_len": 64, "generator": {}}
    path = tmp_path / "gan.pt"
    checkpoint.save(state, path)
    assert main.main([f"--resume={path}"]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "needs its critic" in err[0] and str(path) in err[0]






def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def bad_checkpoints(tmp_path_factory, shared_data) -> dict[str, str]:
    """A good checkpoint and its damaged, foreign and relabelled relatives, by name."""
    tmp_path = tmp_path_factory.mktemp("bad_checkpoints")
    logdir = tmp_path / "logs"
    assert main.main([f"--datapath={shared_data}", f"--logdir={logdir}", *TINY, *DOLLAR, "--epochs=1"]) == 0
    (good,) = logdir.glob("*/checkpoints/checkpoint-final.pt")
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(good.read_bytes()[:5000])
    foreign = tmp_path / "foreign.pt"
    torch.save({"net": torch.nn.Linear(2, 2)}, foreign)
    plain = tmp_path / "plain.pt"
    torch.save({"weights": torch.zeros(3)}, plain)
    state = torch.load(good, weights_only=True)
    state["class_names"] = list(reversed(state["class_names"]))
    relabelled = checkpoint.save(state, tmp_path / "relabelled.pt")
    return {"good": str(good), "corrupt": str(corrupt), "foreign": str(foreign), "plain": str(plain),
            "relabelled": str(relabelled), "missing": str(tmp_path / "missing.pt"), "data": str(shared_data)}


@pytest.mark.parametrize(("argv", "message"), [
    (["--evaluate", "{missing}"], r"checkpoint .*missing\.pt does not exist"),
    (["--evaluate", "{corrupt}"], r"corrupt\.pt is damaged, truncated or not a PyTorch checkpoint"),
    (["--evaluate", "{foreign}"], r"foreign\.pt is not a DeepNAG checkpoint: it holds a pickled torch\.nn"),
    (["--evaluate", "{plain}"], r"plain\.pt is a PyTorch file but not a DeepNAG checkpoint"),
    (["--evaluate", "{good}", "--model=DeepGAN"], r"--model=DeepGAN conflicts with .*which holds DeepNAG"),
    (["--evaluate", "{good}", "--dataset=jk2017-kinect"], r"--dataset=jk2017-kinect conflicts"),
    (["--resume", "{good}", "--model=DeepGAN"], r"--model=DeepGAN conflicts with the checkpoint's DeepNAG"),
    (["--evaluate", "{relabelled}", "--datapath={data}"],
     r"has classes arrow, circle, star, but .* was trained on star, circle, arrow"),
], ids=["missing", "corrupt", "foreign", "plain", "model", "dataset", "resume-model", "classes"])
def test_bad_checkpoints_are_one_line_errors(bad_checkpoints, argv, message):
    import re

    result = _cli(*(a.format(**bad_checkpoints) for a in argv))
    assert result.returncode == 2, (argv, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert re.search(message, lines[0]), lines[0]


def test_bf16_autocast_trains_and_stays_close_to_float32(shared_data):
    config = parse_args(["--resample-n=16", "--batch-size=8"])[0]
    data = load_data("dollar-gds", str(shared_data), resample_n=16, classes=("arrow", "circle"), max_per_class=4)
    results = {}
    for amp in ("none", "bf16"):
        torch.manual_seed(0)
        method = DeepNAGMethod(parse_args(["--resample-n=16", "--batch-size=8", f"--amp={amp}"])[0], data, torch.device("cpu"))
        streams = RandomStreams.seeded(0, torch.device("cpu"))
        results[amp] = [method.run_epoch(data, streams)["loss"] for _ in range(3)]
    assert all(np.isfinite(results["bf16"]))
    # bf16 rounding changes the numbers a little, not the loss's scale
    np.testing.assert_allclose(results["bf16"], results["none"], rtol=0.05)
    assert config.amp == "none"


def test_the_console_epoch_line_is_short_and_the_log_file_has_the_breakdown(tmp_path, shared_data, capsys):
    run = _train(tmp_path, shared_data, *DOLLAR, "--epochs=2")
    console = [line for line in capsys.readouterr().err.splitlines() if " epoch " in f" {line}" and "/2 " in line]
    assert len(console) == 2 and all(len(line) <= 100 for line in console), console
    assert "loss_ed" not in console[0] and "ETA" in console[0]
    written = [line for line in (run / "logs" / "train.log").read_text().splitlines() if "epoch 1/2" in line]
    assert len(written) == 1 and "loss_ed" in written[0] and "fidelity_cos" in written[0]


def test_run_epoch_reports_every_step(shared_data):
    data = load_data("dollar-gds", str(shared_data), resample_n=8, classes=("arrow", "circle"), max_per_class=5)
    method = DeepNAGMethod(parse_args(["--resample-n=8", "--batch-size=3"])[0], data, torch.device("cpu"))
    steps = []
    method.run_epoch(data, RandomStreams.seeded(0, torch.device("cpu")), on_step=lambda: steps.append(1))
    assert len(steps) == method.steps_per_epoch(data) == 4  # 10 samples in batches of 3


def _same(a, b) -> bool:
    """Equal nested checkpoint values: tensors exactly, the rest by ==."""
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.shape == b.shape and torch.equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def test_resume_restores_everything_that_decides_the_runs_future(tmp_path, shared_data):
    """Restoring a checkpoint and writing it again gives it back exactly: epoch, best loss, optimisers, streams."""
    from deepnag.train.loop import Trainer, resolve_config

    run = _train(tmp_path, shared_data, *DOLLAR, "--epochs=3")
    saved = checkpoint.load(run / "checkpoints" / "checkpoint-epoch-2.pt")
    assert saved["best_loss"] < float("inf") and saved["epoch"] == 2
    config, state = resolve_config(*parse_args([f"--resume={run / 'checkpoints' / 'checkpoint-epoch-2.pt'}", "--epochs=4"]))
    data = load_data_for(config)
    trainer = Trainer(config, data, torch.device("cpu"), run, state)
    assert trainer.epoch == 2 and trainer.best == saved["best_loss"] and trainer.best_quality == -math.inf
    # The best measured TSTR (--eval-every) comes back too; checkpoints from before it have none.
    assert Trainer(config, data, torch.device("cpu"), run, {**state, "best_quality": 0.5}).best_quality == 0.5
    older = {k: v for k, v in state.items() if k != "best_quality"}
    assert Trainer(config, data, torch.device("cpu"), run, older).best_quality == -math.inf
    with pytest.raises(UserError, match=f"^{re.escape(config.resume)}: the data set's classes differ from the checkpoint's$"):
        Trainer(config, data, torch.device("cpu"), run, {**state, "class_names": state["class_names"][::-1]})
    again = trainer.state()
    for key in ("epoch", "best_loss", "optimizers", "optimisation", "rng", "generator", "normalizer", "class_names"):
        assert _same(again[key], saved[key]), key
    # And the run goes on to the same periodic checkpoints and the same best as one never stopped.
    assert main.main([f"--resume={run / 'checkpoints' / 'checkpoint-epoch-2.pt'}", "--epochs=4"]) == 0
    straight = _train(tmp_path / "straight", shared_data, *DOLLAR, "--epochs=4")
    for name in ("checkpoint-epoch-4.pt", "checkpoint-best.pt", "checkpoint-final.pt"):
        a, b = checkpoint.load(run / "checkpoints" / name), checkpoint.load(straight / "checkpoints" / name)
        assert a["epoch"] == b["epoch"] and a["best_loss"] == pytest.approx(b["best_loss"], rel=1e-6), name
    assert sorted(p.name for p in (run / "checkpoints").glob("checkpoint-epoch-*")) == [
        "checkpoint-epoch-2.pt", "checkpoint-epoch-4.pt"]


def test_a_time_limit_ends_the_run_cleanly_with_a_checkpoint_that_continues(tmp_path, shared_data, capsys):
    run = _train(tmp_path, shared_data, *DOLLAR, "--epochs=100000", "--time-limit=1s", "--use-tensorboard=0")
    path = run / "checkpoints" / "checkpoint-last.pt"
    state = checkpoint.load(path)
    assert 0 <= state["epoch"] < 100000 and state["kind"] == "full"
    assert not (run / "checkpoints" / "checkpoint-final.pt").exists()
    err = capsys.readouterr().err
    between = state.get("unfinished_epoch")  # between two steps, or (the limit reached as an epoch ended) after it
    assert (f"time limit 0m01s reached in epoch {state['epoch'] + 1} of 100000, after step {between['steps']} of 2"
            if between else f"time limit 0m01s reached after epoch {state['epoch']} of 100000") in err
    assert f"continue with: python main.py --resume={path}" in err
    etas = re.findall(r"ETA (\S+)", err)
    assert all(re.fullmatch(r"0m0[01]s", eta) for eta in etas), etas  # the limit's, not 100000 epochs'
    assert main.main([f"--resume={path}", "--time-limit=1s"]) == 0

    def progress(saved):  # epochs done, then steps of the unfinished one
        return saved["epoch"], saved.get("unfinished_epoch", {}).get("steps", 0)

    assert progress(checkpoint.load(path)) > progress(state)


def test_a_time_limit_between_two_steps_continues_exactly_as_a_run_never_stopped(tmp_path, shared_data, monkeypatch,
                                                                                  capsys):
    """Stopped after step 2 of epoch 2's 3, the run's checkpoint says where the epoch stands, and resumed it ends
    with the very weights, optimiser and streams of a run that never stopped."""
    from deepnag.train.loop import Trainer

    flags = [*DOLLAR, "--epochs=3", "--batch-size=4", "--use-tensorboard=0", "--checkpoint-frequency=0"]  # 3 steps an epoch
    straight = checkpoint.load(_train(tmp_path / "straight", shared_data, *flags) / "checkpoints" / "checkpoint-final.pt")
    asked = []
    monkeypatch.setattr(Trainer, "_over_time", lambda self, stops: asked.append(self.epoch) or len(asked) == 4)
    run = _train(tmp_path / "stopped", shared_data, *flags, "--time-limit=1h")
    monkeypatch.undo()
    last = run / "checkpoints" / "checkpoint-last.pt"
    stopped = checkpoint.load(last)
    assert asked == [0, 0, 1, 1] and stopped["epoch"] == 1 and stopped["unfinished_epoch"]["steps"] == 2
    assert len(stopped["unfinished_epoch"]["history"]["loss"]) == 2
    assert "time limit 1h00m reached in epoch 2 of 3, after step 2 of 3 (1 epochs done in this run)" in capsys.readouterr().err
    assert not (run / "checkpoints" / "checkpoint-final.pt").exists()
    _a_method_that_cannot_stop_between_steps_starts_the_epoch_over(last, monkeypatch, capsys)
    assert main.main([f"--resume={last}"]) == 0
    assert "epoch 2 goes on after its step 2, where it was stopped" in capsys.readouterr().err
    final = checkpoint.load(run / "checkpoints" / "checkpoint-final.pt")
    assert "unfinished_epoch" not in final and final["epoch"] == 3
    assert final["best_loss"] == straight["best_loss"]  # the epochs' mean losses too
    for key in ("generator", "optimizers", "rng"):
        assert _same(final[key], straight[key]), key


def _a_method_that_cannot_stop_between_steps_starts_the_epoch_over(path, monkeypatch, capsys):
    """Several ranks (whose shards are not the steps done) start the stopped epoch over, and say so."""
    from deepnag.train import methods
    from deepnag.train.loop import Trainer, resolve_config

    built = methods.DeepNAGMethod.__init__

    def sharded(self, *args, **kwargs):
        built(self, *args, **kwargs)
        self.stops_within_epochs = False

    monkeypatch.setattr(methods.DeepNAGMethod, "__init__", sharded)
    config, state = resolve_config(*parse_args([f"--resume={path}"]))
    trainer = Trainer(config, load_data_for(config), torch.device("cpu"), path.parent.parent, state)
    assert trainer.unfinished is None and trainer.epoch == 1
    assert "epoch 2, which a time limit stopped after step 2, starts over with new batches" in capsys.readouterr().err
    monkeypatch.undo()


@pytest.mark.parametrize(("spent", "epoch", "limit", "up"), [
    (50.0, 10.0, 60.0, False),  # the next epoch ends at 60: on time
    (54.0, 10.0, 60.0, False),  # ... at 64, less than half an epoch late: run it
    (55.0, 10.0, 60.0, True),  # ... at 65, half an epoch late: stop 5 s early instead
    (61.0, 0.1, 60.0, True),  # past the limit
    (0.0, 200.0, 60.0, True),  # one epoch (a DeepGAN step on a CPU) longer than the whole limit: stop after it
])
def test_a_time_limit_stops_within_half_an_epoch_of_it(spent, epoch, limit, up):
    from deepnag.train.loop import _time_is_up

    assert _time_is_up(spent, epoch, limit) is up


def test_eval_every_logs_quality_to_tensorboard_and_the_console(tmp_path, shared_data, capsys):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = _train(tmp_path, shared_data, *DOLLAR, "--epochs=2", "--eval-every=1", "--subjects=s04,s05",
                 "--max-per-class=0")
    events = EventAccumulator(str(run / "tensorboard")).Reload()
    for tag in ("quality/tstr", "quality/yardstick", "quality/tstr_ratio", "quality/diversity_ed",
                "quality/diversity_ed_real", "quality/best_tstr"):
        assert [e.step for e in events.Scalars(tag)] == [1, 2], tag
    tstr = [e.value for e in events.Scalars("quality/tstr")]
    yardstick = events.Scalars("quality/yardstick")[0].value
    assert all(0.0 <= t <= 1.0 for t in tstr) and 0.5 < yardstick <= 1.0
    assert events.Scalars("quality/tstr_ratio")[0].value == pytest.approx(tstr[0] / yardstick, rel=1e-5)
    err = capsys.readouterr().err
    assert "TSTR on 8 held-out writers" in err
    assert f"epoch 2 quality: TSTR {tstr[1]:.4f}" in err


class _ScriptedQuality:
    """Stands in for QualityMonitor: the TSTR figures of successive measurements, in order."""

    figures = [0.2, 0.6, 0.4]

    def __init__(self, config, data) -> None:
        self.calls = 0

    def __call__(self, generator) -> dict[str, float]:
        tstr = self.figures[self.calls]
        self.calls += 1
        return {"tstr": tstr, "yardstick": 0.9, "tstr_ratio": tstr / 0.9, "diversity_ed": -1.0,
                "diversity_ed_real": -1.0}


def test_best_by_tstr_keeps_the_checkpoint_of_the_highest_measured_tstr(tmp_path, shared_data):
    from deepnag.train.loop import Trainer, resolve_config, train

    config, explicit = parse_args([f"--datapath={shared_data}", f"--logdir={tmp_path}", *TINY, *DOLLAR,
                                   "--epochs=3", "--eval-every=1", "--best-by=tstr", "--use-tensorboard=0"])
    run = train(config, explicit, quality=_ScriptedQuality)
    best = checkpoint.load(run / "checkpoints" / "checkpoint-best.pt")
    final = checkpoint.load(run / "checkpoints" / "checkpoint-final.pt")
    assert best["epoch"] == 2 and best["best_quality"] == 0.6  # not epoch 3, where the loss is lowest
    assert final["best_quality"] == 0.6 and final["best_loss"] < best["best_loss"]
    epochs = re.findall(r"epoch \d/3 .*", (run / "logs" / "train.log").read_text())
    assert len(epochs) == 3 and not any(" * " in line for line in epochs)  # a star marks the best loss only with --best-by loss
    # A resumed run remembers the best TSTR: a later 0.5 would not replace the 0.6 checkpoint.
    config, _ = resolve_config(*parse_args([f"--resume={run / 'checkpoints' / 'checkpoint-final.pt'}", "--epochs=4"]))
    trainer = Trainer(config, load_data_for(config), torch.device("cpu"), run,
                      checkpoint.load(run / "checkpoints" / "checkpoint-final.pt"))
    assert trainer.best_quality == 0.6


@pytest.mark.parametrize("dataset", [DOLLAR, JK], ids=["dollar-gds", "jk2017-kinect"])
def test_seeded_runs_with_the_default_threads_are_identical(tmp_path, shared_data, dataset):
    """Two runs of one seeded command on two threads give the same weights to the last bit (the pairs' gradients
    are summed in a fixed order whatever the threads do), and on one thread too."""
    flags = [*dataset, "--epochs=3", "--num-threads=2", "--max-per-class=12", "--batch-size=12", "--classes="
             + ("arrow,star,circle,x" if dataset is DOLLAR else "duck,push,jab_left,kick_right")]
    runs = [_train(tmp_path / name, shared_data, *flags) for name in ("a", "b")]
    a, b = (_parameters(r / "checkpoints" / "checkpoint-final.pt") for r in runs)
    assert all(torch.equal(a[k], b[k]) for k in a)
    losses = [re.findall(r"loss (\S+)", (r / "logs" / "train.log").read_text()) for r in runs]
    assert losses[0] == losses[1] and len(losses[0]) >= 3


def test_a_signal_stops_between_two_steps_and_the_run_continues_exactly(tmp_path, shared_data, monkeypatch, capsys):
    """SIGTERM in the middle of epoch 2 stops after the step under way (not at the epoch's end, which a scheduler's
    grace period may not wait for); the message is the log's last line too, and resumed the run ends as one never
    stopped."""
    import signal

    from deepnag.train.loop import Trainer

    flags = [*DOLLAR, "--epochs=3", "--batch-size=4", "--use-tensorboard=0", "--checkpoint-frequency=0"]  # 3 steps an epoch
    straight = checkpoint.load(_train(tmp_path / "straight", shared_data, *flags) / "checkpoints" / "checkpoint-final.pt")
    original, asked = Trainer._over_time, []

    def sigterm_in_epoch_2(self, stops):
        asked.append(self.epoch)
        if len(asked) == 4:  # what stop_requests' handler does on SIGTERM
            stops.append(signal.SIGTERM)
        return original(self, stops)

    monkeypatch.setattr(Trainer, "_over_time", sigterm_in_epoch_2)
    logdir = tmp_path / "stopped"
    assert main.main([f"--datapath={shared_data}", f"--logdir={logdir}", *TINY, *flags]) == 128 + signal.SIGTERM
    monkeypatch.undo()
    (run,) = logdir.iterdir()
    last = run / "checkpoints" / "checkpoint-last.pt"
    line = (f"stopped: SIGTERM in epoch 2, after step 2 of 3, checkpoint written; resume with: python main.py "
            f"--resume={last}")
    assert capsys.readouterr().err.strip().splitlines()[-1] == line
    assert line in (run / "logs" / "train.log").read_text()
    assert checkpoint.load(last)["unfinished_epoch"]["steps"] == 2
    assert main.main([f"--resume={last}"]) == 0
    final = checkpoint.load(run / "checkpoints" / "checkpoint-final.pt")
    assert final["epoch"] == 3 and final["best_loss"] == straight["best_loss"]
    for key in ("generator", "optimizers", "rng"):
        assert _same(final[key], straight[key]), key


def test_resuming_an_older_checkpoint_than_the_runs_final_one_warns(tmp_path, shared_data, caplog):
    import logging

    run = _train(tmp_path, shared_data, *DOLLAR, "--epochs=2", "--checkpoint-frequency=1")
    older = run / "checkpoints" / "checkpoint-epoch-1.pt"
    with caplog.at_level(logging.WARNING, logger="deepnag.train.loop"):
        assert main.main([f"--resume={older}", "--epochs=3"]) == 0
    final = run / "checkpoints" / "checkpoint-final.pt"
    assert [r.getMessage() for r in caplog.records if "newer than" in r.getMessage()] == [
        f"{final} beside it holds epoch 2, newer than this checkpoint's 1: resume that one to go on from where the run "
        "ended"]


def test_retarget_puts_a_schedule_where_one_at_the_new_rate_would_be():
    """--lr on resume, mid-way through a warm-up: the rate goes on as if the run had had the new --lr from the start."""
    from deepnag.train.methods import Optimisation

    def schedule(lr: float) -> tuple[Optimisation, torch.optim.Optimizer]:
        net = torch.nn.Linear(2, 2)
        optimizer = torch.optim.Adam(net.parameters(), lr=lr)
        config = parse_args([f"--lr={lr}", "--lr-warmup=5"])[0]
        return Optimisation(config, net, {"generator": optimizer}), optimizer

    old, old_optimizer = schedule(3e-3)
    new, new_optimizer = schedule(1e-3)
    for steps in (2, 5):  # two steps in (warming up), then past the warm-up
        for _ in range(2 if steps == 2 else 3):
            for optimisation, optimizer in ((old, old_optimizer), (new, new_optimizer)):
                optimizer.step()  # (no gradients: the weights stay; the schedule's order is kept)
                optimisation.stepped("generator")
        if steps == 2:
            assert old_optimizer.param_groups[0]["lr"] == pytest.approx(3 * new_optimizer.param_groups[0]["lr"])
            old.retarget(1e-3)
        assert old_optimizer.param_groups[0]["lr"] == pytest.approx(new_optimizer.param_groups[0]["lr"], rel=1e-12)
    assert old_optimizer.param_groups[0]["lr"] == pytest.approx(1e-3, rel=1e-12)


def test_resume_with_a_new_lr_goes_on_at_it_and_records_it(tmp_path, shared_data):
    first = _train(tmp_path, shared_data, *DOLLAR, "--recipe=fast", "--lr-warmup=2", "--epochs=2")
    assert main.main([f"--resume={first / 'checkpoints' / 'checkpoint-final.pt'}", "--epochs=3", "--lr=5e-4"]) == 0
    state = torch.load(first / "checkpoints" / "checkpoint-final.pt", weights_only=True)
    assert state["epoch"] == 3 and state["config"]["lr"] == 5e-4
    assert [g["lr"] for g in state["optimizers"]["generator"]["param_groups"]] == [pytest.approx(5e-4, rel=1e-12)]
    assert "from epoch 3 the learning rate goes on at --lr=0.0005 (the run's was 0.003)" in (first / "logs" / "train.log").read_text()
