"""Every command line the README and the docs show parses into the action it describes (`deepnag.actions`), and runs."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest

from deepnag.cli import action_of, parse_args
from tests.conftest import ROOT

ACTION_FLAGS = {"--evaluate": "evaluate", "--resume": "resume", "--generate": "generate", "--synthesizer": "generate",
                "--realism-study": "realism_study"}


DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
"""Where users read commands: the README and every page of the documentation site."""


def readme_commands() -> list[str]:
    """The commands of the README's and the docs' bash blocks that run this project (main.py, deepnag, torchrun …
    main.py), each once."""
    found: dict[str, None] = {}
    for document in DOCUMENTS:
        blocks = re.findall(r"```bash\n(.*?)```", document.read_text(), flags=re.S)
        for line in "\n".join(blocks).replace("\\\n", " ").splitlines():
            line = " ".join(line.split(" #")[0].split())
            if re.match(r"(python main\.py|deepnag |torchrun .*main\.py)", line):
                found[line] = None
    return list(found)


def _argv(command: str) -> list[str]:
    words = shlex.split(command.replace("<", "").replace(">", ""))
    start = next(i for i, w in enumerate(words) if w in ("main.py", "deepnag")) + 1
    return words[start:]


def test_the_readme_shows_commands_of_every_action():
    commands = readme_commands()
    assert len(commands) >= 15
    actions = {action_of(*parse_args(_argv(c))) for c in commands if "--help" not in c}
    assert actions == {"train", "resume", "evaluate", "generate", "realism_study"}


@pytest.mark.parametrize("command", [c for c in readme_commands() if "--help" not in c])
def test_each_readme_command_parses_into_the_action_its_flags_name(command):
    argv = _argv(command)
    config, explicit = parse_args(argv)
    named = {ACTION_FLAGS[w.split("=")[0]] for w in argv if w.split("=")[0] in ACTION_FLAGS}
    assert action_of(config, explicit) == (named.pop() if named else "train")


TINY_TRAINING = ("--max-per-class=3", "--resample-n=12", "--batch-size=4", "--vis-frequency=0",
                 "--checkpoint-frequency=0", "--epochs=1", "--use-tensorboard=0")
"""What makes a README training command a test's: a few samples, one epoch (the command's own flags stay)."""


def _tiny_argv(command: str, run: Path, shipped_epochs: dict[str, int]) -> list[str]:
    """The command's own flags, pointed at the test's run and the shipped models, made small for a test."""
    argv = _argv(command.replace("logs/<run>", str(run)).replace("pretrained_models/", f"{ROOT / 'pretrained_models'}/"))
    config, explicit = parse_args(argv)
    action = action_of(config, explicit)
    names = {w.split("=", 1)[0] for w in argv}
    if action == "train":
        return [*argv, *(f for f in TINY_TRAINING if f.split("=", 1)[0] not in names or f.startswith("--epochs"))]
    if action == "resume":  # one epoch more than the checkpoint holds
        return [w if not w.startswith("--epochs=") else f"--epochs={shipped_epochs[config.resume] + 1}" for w in argv]
    if action == "generate":  # a few samples per class (or per sample) are enough to show the command runs
        return [f"{w.split('=')[0]}={min(int(w.split('=')[1]), 8)}" if w.startswith("--num-per-") else w for w in argv]
    return argv


@pytest.fixture(scope="module")
def readme_run(tmp_path_factory, shared_data):
    """A two-epoch run standing for the README's `logs/<run>` (two writers, for --metrics' subject-disjoint halves)."""
    import main

    logdir = tmp_path_factory.mktemp("readme") / "logs"
    assert main.main([*TINY_TRAINING, "--epochs=2", "--dataset=dollar-gds", "--classes=arrow,star", "--subjects=s02,s03",
                      "--max-per-class=20",
                      f"--datapath={shared_data}", f"--logdir={logdir}"]) == 0
    (run,) = logdir.iterdir()
    # what a stopped run (Ctrl-C, --time-limit) leaves to resume from, for the commands that name it
    shutil.copy(run / "checkpoints" / "checkpoint-final.pt", run / "checkpoints" / "checkpoint-last.pt")
    return run


@pytest.mark.trains
@pytest.mark.parametrize("command", [c for c in readme_commands() if "--help" not in c])
def test_each_readme_command_runs_with_tiny_settings(command, readme_run, shared_data, tmp_path, monkeypatch):
    """Each README command, small (few samples, one epoch), ends well; torchrun's run as one process here."""
    import main
    from deepnag import checkpoint
    from deepnag.realism import study as realism_study
    from deepnag.recognition import gru_recognizer

    monkeypatch.chdir(tmp_path)  # outputs such as --output=synthetic land here
    monkeypatch.setattr(gru_recognizer, "STEPS", 20)
    monkeypatch.setattr(realism_study, "run_until_stopped", lambda server: None)  # serves, then stops at once
    epochs = {}
    for path in [*readme_run.glob("checkpoints/*.pt"), *(ROOT / "pretrained_models").glob("*/*/generator.pt")]:
        epochs[str(path)] = checkpoint.load(path)["epoch"]
    argv = [*_tiny_argv(command, readme_run, epochs), f"--datapath={shared_data}", f"--logdir={tmp_path / 'logs'}"]
    assert main.main(argv) == 0, argv
    config, explicit = parse_args(argv)
    if config.output:
        assert (tmp_path / f"{config.output}.npz").is_file()
