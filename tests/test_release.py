"""scripts/make_release.py: a shareable generator, its card and the TSTR history."""

from __future__ import annotations

import csv

import pytest
import torch

import main
from deepnag import checkpoint
from scripts import make_release
from tests.conftest import tiny

TINY = tiny("--classes=arrow,star,circle", "--max-per-class=0", "--resample-n=16", "--batch-size=32",
            "--checkpoint-frequency=1", "--use-tensorboard=0")


@pytest.fixture(autouse=True)
def short_learned_fits(monkeypatch):
    """--metrics' learned recogniser fits a few steps here: these tests check what a release holds, not its quality."""
    from deepnag.recognition import gru_recognizer

    monkeypatch.setattr(gru_recognizer, "STEPS", 20)


def test_release_and_history(tmp_path, shared_data):
    logdir = tmp_path / "logs"
    assert main.main([f"--datapath={shared_data}", f"--logdir={logdir}", "--epochs=2", "--device=cpu", *TINY]) == 0
    (run,) = list(logdir.iterdir())
    destination = tmp_path / "release"
    make_release.main_([str(run / "checkpoints" / "checkpoint-epoch-1.pt"), str(destination),
                        f"--datapath={shared_data}", "--num-per-class=3", "--record-only"])
    assert not (destination / "generator.pt").exists()
    make_release.main_([str(run / "checkpoints" / "checkpoint-final.pt"), str(destination),
                        f"--datapath={shared_data}", "--num-per-class=3", "--note=An intermediate model."])
    state = torch.load(destination / "generator.pt", weights_only=True)
    assert state["kind"] == "generator" and "optimizers" not in state and state["config"]["datapath"] == "data"
    assert (state["config"]["device"], state["config"]["num_threads"]) == ("auto", 0)
    with (destination / "tstr_history.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["epoch"] for r in rows] == ["1", "2"] and all(0 <= float(r["tstr"]) <= 1 for r in rows)
    card = (destination / "MODEL_CARD.md").read_text()
    assert "| epoch | 1 | 2 |" in card and "An intermediate model." in card
    assert "## Quality (`python main.py --evaluate=generator.pt --metrics --num-per-class=3`)" in card
    assert "(evaluation/samples.png)" in card and (destination / "evaluation" / "metrics.json").is_file()


def test_a_deepgan_release_carries_its_critic_for_resuming(tmp_path, shared_data):
    logdir = tmp_path / "logs"
    assert main.main([f"--datapath={shared_data}", f"--logdir={logdir}", "--model=DeepGAN", "--epochs=2",
                      "--deepgan-critic-iters=1", "--batch-size=8", *(f for f in TINY if not f.startswith("--batch-size="))]) == 0
    (run,) = list(logdir.iterdir())
    destination = tmp_path / "release"
    make_release.main_([str(run / "checkpoints" / "checkpoint-final.pt"), str(destination),
                        f"--datapath={shared_data}", "--num-per-class=3"])
    generator = torch.load(destination / "generator.pt", weights_only=True)
    critic = torch.load(destination / "critic.pt", weights_only=True)
    final = torch.load(run / "checkpoints" / "checkpoint-final.pt", weights_only=True)
    assert generator["kind"] == "generator" and "critic" not in generator
    assert critic["kind"] == "critic" and set(critic) == {"format", "format_version", "kind", "model", "dataset", "epoch",
                                                          "critic", "versions"}
    assert all(torch.equal(critic["critic"][k], final["critic"][k]) for k in final["critic"])
    assert (critic["model"], critic["dataset"], critic["epoch"]) == ("DeepGAN", "dollar-gds", 2)
    card = (destination / "MODEL_CARD.md").read_text()
    assert "`critic.pt`" in card and f"--resume={(destination / 'generator.pt').as_posix()} " in card
    # The release continues with its own critic: no --fresh-critic, and the critic's weights are the run's.
    more = tmp_path / "more"
    assert main.main([f"--resume={destination / 'generator.pt'}", "--epochs=3", f"--logdir={more}",
                      f"--datapath={shared_data}"]) == 0
    (continued,) = list(more.iterdir())
    assert f"the critic comes from {destination / 'critic.pt'} beside it" in (continued / "logs" / "train.log").read_text()
    assert "the critic starts afresh" not in (continued / "logs" / "train.log").read_text()
    # A critic of another epoch beside the generator is refused with one line, and --fresh-critic leaves it out.
    stale = checkpoint.critic_only({**final, "epoch": 1})
    checkpoint.save(stale, destination / "critic.pt")
    with pytest.raises(checkpoint.CheckpointError, match=r"critic\.pt is the critic of dollar-gds at epoch 1, but .* "
                                                         r"is dollar-gds at epoch 2; delete it to continue .* with "
                                                         r"--fresh-critic instead$"):
        checkpoint.with_critic_beside(checkpoint.load(destination / "generator.pt"), destination / "generator.pt")
    (destination / "critic.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(checkpoint.CheckpointError, match=r"critic\.pt is damaged or truncated"):
        checkpoint.with_critic_beside(checkpoint.load(destination / "generator.pt"), destination / "generator.pt")
    # A release made from a generator alone (its critic lost) says how to continue it: with a new critic.
    again = tmp_path / "again"
    make_release.main_([str(destination / "generator.pt"), str(again), f"--datapath={shared_data}",
                        "--num-per-class=3"])
    card = (again / "MODEL_CARD.md").read_text()
    assert not (again / "critic.pt").exists()
    assert "`critic.pt`" not in card and f"--resume={(again / 'generator.pt').as_posix()} --fresh-critic" in card


def test_the_cards_command_names_the_recipe_and_what_differs_from_it():
    from deepnag.config import Config

    fast = Config(dataset="jk2017-kinect", recipe="fast", lr=3e-3, lr_warmup=100, ema=0.999)
    assert make_release.training_command(fast) == "python main.py --model=DeepNAG --dataset=jk2017-kinect --recipe=fast"
    mine = Config(recipe="fast", lr=1e-3, lr_warmup=100, ema=0.999, subjects=("s02", "s03"))
    assert make_release.training_command(mine) == ("python main.py --model=DeepNAG --dataset=dollar-gds --recipe=fast "
                                                   "--lr=0.001 --subjects=s02,s03")
    assert make_release.training_command(Config(lr=2e-4)) == "python main.py --model=DeepNAG --dataset=dollar-gds --lr=0.0002"
    assert make_release.training_command(Config(epochs=70)).endswith("--dataset=dollar-gds --epochs=70")
    chained = Config(recipe="fast", lr=3e-3, lr_warmup=100, ema=0.999, subjects=("s06", "s08"), chain_variants=4,
                     diversity_weight=2.0, epochs=40)
    assert make_release.training_command(chained) == (
        "python main.py --model=DeepNAG --dataset=dollar-gds --recipe=fast --diversity-weight=2.0 --subjects=s06,s08 "
        "--chain-variants=4 --epochs=40")


def test_the_cards_command_says_where_a_resume_changed_a_setting(tmp_path):
    from deepnag.config import Config

    log = tmp_path / "train.log"
    log.write_text("05:58:07 from epoch 301 the learning rate goes on at --lr=0.0005 (the run's was 0.003)\n"
                   "06:00:00 from epoch 351 the strokes are in --stroke-order=canonical (the run's were drawn)\n"
                   "07:10:00 from epoch 420 the learning rate goes on at --lr=0.0001 (the run's was 0.0005)\n")
    assert make_release.resume_changes(log, 400) == [(301, "lr", "0.0005", "0.003"),
                                                     (351, "stroke_order", "canonical", "drawn")]
    assert make_release.resume_changes(tmp_path / "none.log", 400) == []
    tuned = Config(dataset="mmg", recipe="fast", lr=1e-4, lr_warmup=100, ema=0.999, stroke_order="canonical")
    assert make_release.command_line(tuned, make_release.resume_changes(log, 500)) == (
        "`python main.py --model=DeepNAG --dataset=mmg --recipe=fast` (then `--resume` across sessions; "
        "from epoch 301 `--lr=0.0005`, from epoch 351 `--stroke-order=canonical`, from epoch 420 `--lr=0.0001`)")
    assert make_release.command_line(tuned, []) == (
        "`python main.py --model=DeepNAG --dataset=mmg --recipe=fast --lr=0.0001 --stroke-order=canonical` "
        "(then `--resume` across sessions)")
    assert make_release.command_line(Config(), []) == ("`python main.py --model=DeepNAG --dataset=dollar-gds` "
                                                       "(then `--resume` across sessions)")
