"""The Config dataclass: one place for each default, and the rule for actions on a checkpoint."""

from __future__ import annotations

import dataclasses
import re

import pytest
import torch

from deepnag.cli import parse_args
from deepnag.config import Config, flag_or_saved
from deepnag.data.batches import load_data
from deepnag.errors import UserError
from deepnag.train import methods
from deepnag.train.methods import DeepNAGMethod, RandomStreams


def test_gamma_is_a_setting_with_the_references_default():
    assert Config().gamma == 0.1
    assert parse_args([])[0].gamma == 0.1
    assert parse_args(["--gamma=0.5"])[0].gamma == 0.5
    assert Config.from_dict(Config(gamma=0.3).to_dict()).gamma == 0.3


def test_a_checkpoint_written_before_gamma_was_a_setting_reads_as_the_default():
    older = Config().to_dict()
    del older["gamma"]
    assert Config.from_dict(older).gamma == 0.1


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "x"])
def test_a_bad_gamma_is_a_one_line_error(value):
    with pytest.raises(UserError, match="--gamma"):
        parse_args([f"--gamma={value}"])


@pytest.mark.parametrize("value, message", [
    ("-1", "--diversity-weight must be a non-negative finite number, got -1"),
    ("inf", "--diversity-weight must be a non-negative finite number, got inf"),
    ("x", "--diversity-weight must be a number, got 'x'"),
])
def test_a_bad_diversity_weight_is_a_one_line_error(value, message):
    with pytest.raises(UserError, match=re.escape(message)):
        parse_args([f"--diversity-weight={value}"])


def test_the_diversity_weight_is_deepnags_only():
    assert parse_args(["--diversity-weight=0"])[0].diversity_weight == 0.0
    with pytest.raises(UserError, match="--diversity-weight weighs a term of DeepNAG's loss"):
        parse_args(["--model=DeepGAN", "--diversity-weight=2"])


def test_the_training_loss_uses_the_configured_gamma_and_diversity_weight(shared_data, monkeypatch):
    seen = []
    real_loss = methods.deepnag_loss

    def spy(*args, gamma, diversity_weight, **kwargs):
        seen.append((gamma, diversity_weight))
        return real_loss(*args, gamma=gamma, diversity_weight=diversity_weight, **kwargs)

    monkeypatch.setattr(methods, "deepnag_loss", spy)
    data = load_data("dollar-gds", str(shared_data), resample_n=8, classes=("arrow", "circle"), max_per_class=4)
    config = parse_args(["--resample-n=8", "--batch-size=8", "--gamma=0.7", "--diversity-weight=3"])[0]
    DeepNAGMethod(config, data, torch.device("cpu")).run_epoch(data, RandomStreams.seeded(0, torch.device("cpu")))
    assert seen and set(seen) == {(0.7, 3.0)}


def test_an_action_on_a_checkpoint_takes_its_settings_unless_given():
    saved = Config(seed=7, datapath="elsewhere")
    asked = dataclasses.replace(Config(), seed=99)
    assert flag_or_saved(asked, {"seed"}, saved, "seed") == 99
    assert flag_or_saved(asked, set(), saved, "seed") == 7
    assert flag_or_saved(asked, {"seed"}, saved, "datapath") == "elsewhere"
