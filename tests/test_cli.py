"""The command line: flags, validation messages, help."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

import main
from deepnag.cli import parse_args
from deepnag.config import Config
from deepnag.errors import UserError
from tests.conftest import ROOT


def test_defaults_match_the_reference():
    config, explicit = parse_args([])
    assert (config.model, config.dataset, config.seed, config.latent_dim, config.resample_n) == ("DeepNAG", "dollar-gds", 1234, 32, 64)
    assert (config.lr, config.beta0, config.beta1, config.batch_size) == (1e-4, 0.5, 0.9, 64)
    assert (config.deepgan_critic_iters, config.deepgan_lambda, config.vis_frequency, config.checkpoint_frequency) == (5, 10.0, 100, 10000)
    assert config.num_epochs == 25000 and explicit == set()
    assert parse_args(["--model", "DeepGAN"])[0].num_epochs == 150000


def test_dataset_name_alias_and_case():
    assert parse_args(["--dataset-name", "jk2017-kinect"])[0].dataset == "jk2017-kinect"
    config, explicit = parse_args(["--dataset=JK2017-Kinect", "--model=deepgan"])
    assert (config.dataset, config.model) == ("jk2017-kinect", "DeepGAN")
    assert explicit == {"dataset", "model"}


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--dataset", "mnist"], r"unknown data set 'mnist'; known: dollar-gds, jk2017-kinect"),
        (["--batch-size", "0"], r"--batch-size must be at least 1, got 0"),
        (["--deepgan-critic-iters", "0"], r"--deepgan-critic-iters must be at least 1"),
        (["--lr", "-1"], r"--lr must be a positive finite number"),
        (["--beta0", "1.5"], r"--beta0 must be in \[0, 1\)"),
        (["--resample-n", "1"], r"--resample-n must be at least 2"),
        (["--speeds", "medium,turbo"], r"unknown speed\(s\) turbo; known: slow, medium, fast"),
        (["--dataset", "jk2017-kinect", "--speeds", "fast"], r"--speeds applies to dollar-gds and mmg only"),
        (["--evaluate", "a.pt", "--resume", "b.pt"], r"--evaluate and --resume cannot be combined"),
        (["--generate", "a.pt"], r"--generate needs --output=PATH"),
        (["--generate", "a.pt", "--output", "x", "--num-per-class", "0"], r"--num-per-class must be at least 1, got 0"),
        (["--num-per-class", "3"], r"--num-per-class applies to --evaluate and --generate only, not to training"),
        (["--metrics"], r"--metrics applies to --evaluate and --generate only, not to training"),
        (["--epochs", "ten"], r"--epochs must be an integer, got 'ten'"),
        (["--bogus"], r"unrecognized arguments: --bogus"),
        (["--seed", "-5"], r"--seed must be -1"),
        (["--train-subject-count", "-1"], r"--train-subject-count must be 0 or more"),
        (["--eval-every", "0"], r"--eval-every must be at least 1 epoch"),
        (["--eval-every", "5x"], r"--eval-every must be a number of epochs \(50\) or a duration"),
        (["--best-by", "tstr"], r"--best-by=tstr chooses the best checkpoint by measured TSTR: give --eval-every"),
        (["--best-by", "accuracy"], r"unknown --best-by 'accuracy'; known: loss, tstr"),
        (["--time-limit", "30"], r"--time-limit must be a duration like 90s, 30m or 2h, got '30'"),
        (["--time-limit=-2m"], r"--time-limit must be positive"),
        (["--synthesizer", "perlin"], r"unknown synthesizer 'perlin'; known: generator, gpsr, chain, mix, chain-mix, vetted-chain-mix"),
        (["--synthesizer", "mix", "--output", "x"], r"--synthesizer=mix needs --generate=CHECKPOINT \(per class half the generator\'s samples"),
        (["--synthesizer", "mix", "--generate", "g.pt", "--output", "x", "--metrics"],
         r"--metrics measures the generator, and its 'mix' rows are this mix"),
        (["--synthesizer", "vetted-chain-mix", "--generate", "g.pt", "--output", "x", "--metrics"],
         r"--metrics measures the generator, and its 'vetted-chain-mix' rows are this mix"),
        (["--synthesizer", "mix", "--generate", "g.pt"], r"--generate needs --output=PATH"),
        (["--synthesizer", "gpsr"], r"--synthesizer=gpsr needs --output=PATH"),
        (["--synthesizer", "gpsr", "--evaluate", "a.pt"], r"--synthesizer applies to --generate only, not to --evaluate"),
        (["--synthesizer", "gpsr", "--output", "x", "--metrics"], r"--metrics measures a generator"),
        (["--synthesizer", "gpsr", "--output", "x", "--num-per-class", "2"], r"--num-per-class does not go with --synthesizer=gpsr, which writes --num-per-sample variants"),
        (["--generate", "a.pt", "--output", "x", "--num-per-sample", "2"],
         r"--num-per-sample does not go with --synthesizer=generator, which writes --num-per-class samples"),
        (["--recipe", "quick"], r"unknown recipe 'quick'; known: reference, fast"),
        (["--ema", "1"], r"--ema must be in \[0, 1\), got 1"),
        (["--lr-warmup", "-3"], r"--lr-warmup must be 0 or more"),
    ],
)
def test_bad_flags_are_one_line_errors(argv, message):
    with pytest.raises(UserError, match=message):
        parse_args(argv)


def test_durations_and_subject_lists_parse():
    config = parse_args(["--time-limit", "1.5h", "--subjects", "s02, s03", "--holdout-subjects", "s04"])[0]
    assert config.time_limit == 5400.0 and config.subjects == ("s02", "s03") and config.holdout_subjects == ("s04",)
    assert parse_args(["--time-limit", "90s"])[0].time_limit == 90.0
    assert parse_args(["--time-limit", "30M"])[0].time_limit == 1800.0
    assert parse_args(["--eval-every", "25"])[0].eval_interval == ("epochs", 25.0)
    assert parse_args(["--eval-every", "10m"])[0].eval_interval == ("seconds", 600.0)
    assert parse_args([])[0].eval_interval is None


def test_a_recipe_fills_the_flags_the_user_left_out():
    reference = parse_args([])[0]
    assert (reference.recipe, reference.lr, reference.lr_warmup, reference.ema) == ("reference", 1e-4, 0, 0.0)
    fast, explicit = parse_args(["--recipe", "fast"])
    assert (fast.recipe, fast.lr, fast.lr_warmup, fast.ema) == ("fast", 3e-3, 100, 0.999)
    assert explicit == {"recipe"}  # what the recipe set is not what the user gave (a resume may not conflict)
    mine = parse_args(["--recipe=fast", "--lr=3e-4", "--ema=0"])[0]
    assert (mine.lr, mine.lr_warmup, mine.ema) == (3e-4, 100, 0.0)
    assert parse_args(["--lr-warmup=50", "--ema=0.99"])[0].recipe == "reference"


def test_config_round_trips_through_a_dict():
    config = parse_args(["--classes", "arrow,star", "--speeds", "fast,slow"])[0]
    assert Config.from_dict(config.to_dict()) == config


def test_help_lists_every_flag_with_its_default():
    result = subprocess.run([sys.executable, "main.py", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    for flag in ("--datapath", "--dataset", "--dataset-name", "--seed", "--model", "--latent-dim", "--resample-n",
                 "--lr", "--beta0", "--beta1", "--batch-size", "--epochs", "--deepgan-critic-iters",
                 "--deepgan-lambda", "--use-tensorboard", "--vis-frequency", "--checkpoint-frequency",
                 "--experiment-name", "--evaluate", "--resume", "--device", "--download-url"):
        assert flag in result.stdout
    assert "(default: 1234)" in result.stdout and "(default: 0.0001)" in result.stdout
    text = " ".join(result.stdout.split())  # argparse wraps help lines
    assert "synthetic samples per class: what --generate writes, and what --metrics measures" in text
    assert "--gamma GAMMA soft-DTW smoothing (gamma) of the loss; the reference uses 0.1 (default: 0.1)" in text
    assert "The default, data, is the project's data/ folder from any working directory" in text


def test_the_readmes_generate_outputs_are_ignored_by_git():
    """Every `--output=NAME` of the README's and the docs' commands must not leave untracked files in the project root."""
    from tests.test_readme_commands import readme_commands

    names = sorted({w.split("=", 1)[1] for c in readme_commands() for w in c.split() if w.startswith("--output=")})
    assert {"synthetic", "gpsr", "chain"} <= set(names)
    paths = [p for name in names for p in (f"{name}.npz", f"{name}/dollar_gds/x.xml", f"{name}.metrics.json")
             if not p.endswith(".metrics.json") or any(f"--output={name}" in c and "--metrics" in c
                                                        for c in readme_commands())]
    paths.append("logs/evaluation/a/samples.png")
    result = subprocess.run(["git", "check-ignore", *paths], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == paths


def test_cli_error_has_no_traceback():
    result = subprocess.run([sys.executable, "main.py", "--batch-size=0"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["error: argument --batch-size: --batch-size must be at least 1, got 0 (see python main.py --help)"]


def test_version_and_the_recipes_default_are_in_the_help(capsys):
    from deepnag import __version__

    with pytest.raises(SystemExit) as done:
        main.main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.strip() == f"main.py {__version__}"
    with pytest.raises(SystemExit):
        main.main(["--help"])
    assert re.search(r"--recipe .*flags given win\s+\(default:\s+reference\)", capsys.readouterr().out, re.S)


def test_a_folder_given_as_a_checkpoint_says_so(tmp_path, capsys):
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "checkpoint-final.pt").write_bytes(b"x")
    assert main.main([f"--evaluate={tmp_path}"]) == 2
    assert capsys.readouterr().err.strip() == (f"error: checkpoint {tmp_path} is a folder, not a file; give a .pt file "
                                               "(it holds checkpoint-final.pt)")


# ----------------------------------------------------------------------------------------------------------------------
# The action table (deepnag.actions): every flag, every action
# ----------------------------------------------------------------------------------------------------------------------
ACTION_ARGV = {"train": [], "evaluate": ["--evaluate=a.pt"], "resume": ["--resume=a.pt"],
               "generate": ["--generate=a.pt", "--output=x"], "realism_study": ["--realism-study=a.pt"]}
"""The least command line of each action."""
VALUES = {"download_url": "http://127.0.0.1:9/x", "output": "x", "epochs": "5", "time_limit": "1m", "eval_every": "5",
          "classes": "a", "subjects": "s1", "holdout_subjects": "s2", "experiment_name": "x", "synthesizer": "generator",
          "metrics": "study"}
"""A valid value of each flag whose default is no value."""


def _given(field: str) -> list[str]:
    """A command-line fragment giving the flag of `field` a valid value (with what that value needs)."""
    from deepnag.actions import flag

    if field == "subject_pattern":
        return ["--dataset=folder", "--datapath=d", "--subject-pattern=(s..)"]
    if field == "mmg_device":
        return ["--dataset=mmg", "--mmg-device=pen"]
    default = getattr(Config(), field)
    if isinstance(default, bool):
        return [flag(field)]
    value = VALUES.get(field, ",".join(default) if isinstance(default, tuple) else default)
    return [f"{flag(field)}={value}"]


@pytest.mark.parametrize("action", list(ACTION_ARGV))
def test_every_action_takes_the_flags_of_its_row_and_refuses_the_others_in_one_line(action):
    from deepnag.actions import ACTIONS, FLAG_GROUPS, flag
    from deepnag.cli import action_of

    assert set(ACTION_ARGV) == set(ACTIONS)
    for field in {f for fields in FLAG_GROUPS.values() for f in fields} | {"fresh_critic"}:
        if field == "synthesizer" and action == "train":
            continue  # --synthesizer alone asks for generate (the next test)
        given = _given(field) if "dataset" in ACTIONS[action].accepts else _given(field)[-1:]  # its own flag alone
        argv = [*ACTION_ARGV[action], *given]
        if action == "generate" and field == "num_per_sample":
            argv.append("--synthesizer=gpsr")  # the generator writes --num-per-class; GPSR and chain take this one
        if field in ACTIONS[action].accepts or (action == "generate" and field == "synthesizer"):
            config, explicit = parse_args(argv)
            assert action_of(config, explicit) == action and field in explicit, argv
        else:
            takers = " and ".join(a.called for a in ACTIONS.values() if field in a.accepts)
            with pytest.raises(UserError, match=f"^{flag(field)} applies to {takers} only, not to "
                                                f"{ACTIONS[action].called}$"):
                parse_args(argv)


def test_each_flag_has_one_help_group_and_the_groups_say_which_actions_take_them():
    from deepnag.actions import ACTIONS, FLAG_GROUPS
    from deepnag.cli import build_parser

    fields = [f for fields in FLAG_GROUPS.values() for f in fields]
    assert len(fields) == len(set(fields))  # one group each
    own = {a.flag for a in ACTIONS.values() if a.flag} | {"fresh_critic"}
    assert set(fields) | own == set(Config.__dataclass_fields__)  # every setting is a flag of one group
    groups = {g.title: g for g in build_parser()._action_groups}
    for title, members in FLAG_GROUPS.items():
        assert {a.dest for a in groups[title]._group_actions} == set(members)
        takers = [a.name for a in ACTIONS.values() if set(members) & set(a.accepts)]
        assert groups[title].description.startswith(f"taken by: {', '.join(takers)}")
    assert {a.dest for a in groups["what to run"]._group_actions} == own


@pytest.mark.parametrize(("argv", "action", "message"), [
    (["--synthesizer=chain", "--output=x"], "generate", None),
    (["--generate=a.pt", "--synthesizer=mix", "--output=x", "--num-per-class=4"], "generate", None),
    (["--generate=a.pt", "--output=x", "--metrics", "--num-per-class=4"], "generate", None),
    (["--synthesizer=gpsr", "--output=x", "--num-per-sample=2"], "generate", None),
    (["--synthesizer=generator", "--output=x"], None, r"^--synthesizer=generator needs --generate=CHECKPOINT"),
    (["--synthesizer=chain", "--output=x", "--metrics"], None, r"^--metrics measures a generator; .* reports the chain"),
    (["--evaluate=a.pt", "--resume=b.pt"], None, r"^--evaluate and --resume cannot be combined: pick one$"),
    (["--generate=a.pt"], None, r"^--generate needs --output=PATH \(samples go to PATH.npz\)$"),
])
def test_generate_chooses_its_synthesizer_from_the_synthesizer_table(argv, action, message):
    from deepnag.cli import action_of

    if message is None:
        assert action_of(*parse_args(argv)) == action
    else:
        with pytest.raises(UserError, match=message):
            parse_args(argv)


def test_each_synthesizer_of_the_registry_either_measures_or_refuses_metrics_in_one_line():
    """Walks the synthesizer registry: --metrics either has a measure on the top floor (`deepnag.commands.MEASURES`)
    or is refused with the synthesizer's own `why_not`, and never both."""
    from deepnag import commands
    from deepnag.generate.synthesizers import SYNTHESIZERS

    for synthesizer in SYNTHESIZERS.values():
        argv = [f"--synthesizer={synthesizer.name}", "--output=x", "--metrics"]
        argv += ["--generate=g.pt"] if synthesizer.needs_checkpoint else []
        measure = commands.MEASURES.get(synthesizer.name)
        assert (measure is None) == (synthesizer.why_not is not None), synthesizer.name
        if measure is not None:
            assert callable(measure) and parse_args(argv)[0].metrics
        else:
            with pytest.raises(UserError, match=f"^{re.escape(synthesizer.why_not)}$"):
                parse_args(argv)
    assert set(commands.MEASURES) == {"generator"}  # the generator's samples; the rest refuse


def test_every_action_has_a_function_on_the_top_floor():
    from deepnag import commands
    from deepnag.actions import ACTIONS

    assert set(commands.HANDLERS) == set(ACTIONS) and all(callable(f) for f in commands.HANDLERS.values())


def test_no_function_is_imported_by_its_name_as_a_string():
    """Handlers are real callables: no "module:function" strings, no importlib, anywhere in the package."""
    for path in (ROOT / "deepnag").rglob("*.py"):
        text = path.read_text()
        assert "importlib" not in text and not re.search(r"[\"']deepnag(\.\w+)+:\w+[\"']", text), path


def test_every_flag_is_declared_once_on_its_config_field():
    """The parser, the help groups and the docs' page all come from `Config`'s declarations: no flag is written
    anywhere else."""
    import dataclasses

    from deepnag.actions import FLAG_GROUPS
    from deepnag.cli import build_parser
    from deepnag.config import WHAT_TO_RUN, flag_groups, flag_names

    parser = build_parser()
    declared = {a.dest: a for a in parser._actions if a.dest not in ("help", "version")}
    fields = dataclasses.fields(Config)
    assert set(declared) == {f.name for f in fields}
    for field in fields:
        action = declared[field.name]
        assert tuple(action.option_strings) == flag_names(field)
        assert action.help.startswith(field.metadata["help"].split("{")[0]), field.name
        group = next(g for g in parser._action_groups if action in g._group_actions)
        assert group.title == field.metadata["group"] and (field.metadata["group"] == WHAT_TO_RUN or
                                                         field.name in FLAG_GROUPS[group.title])
    assert FLAG_GROUPS == flag_groups()
    source = (ROOT / "deepnag" / "cli.py").read_text()
    assert source.count("add_argument(") == 2  # --version, and the loop over the declarations


def test_a_relative_datapath_is_kept_as_an_absolute_one(tmp_path, monkeypatch):
    """A checkpoint records where its data was: an --evaluate from another folder must find the same place."""
    monkeypatch.chdir(tmp_path)
    assert parse_args(["--datapath=mydata"])[0].datapath == str(tmp_path / "mydata")
    assert parse_args(["--datapath=data"])[0].datapath == "data"  # the default's name: the project's data folder
    assert parse_args([])[0].datapath == "data"
