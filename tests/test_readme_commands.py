"""Every command line the README shows parses into the action it describes (`deepnag.actions`)."""

from __future__ import annotations

import re
import shlex

import pytest

from deepnag.cli import action_of, parse_args
from tests.conftest import ROOT

ACTION_FLAGS = {"--evaluate": "evaluate", "--resume": "resume", "--generate": "generate", "--synthesizer": "generate"}


def readme_commands() -> list[str]:
    """The commands of the README's bash blocks that run this project (main.py, deepnag, torchrun … main.py)."""
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    lines = "\n".join(blocks).replace("\\\n", " ").splitlines()
    found = []
    for line in lines:
        line = line.split(" #")[0].strip()
        if re.match(r"(python main\.py|deepnag |torchrun .*main\.py)", line):
            found.append(line)
    return found


def _argv(command: str) -> list[str]:
    words = shlex.split(command.replace("<", "").replace(">", ""))
    start = next(i for i, w in enumerate(words) if w in ("main.py", "deepnag")) + 1
    return words[start:]


def test_the_readme_shows_commands_of_every_action():
    commands = readme_commands()
    assert len(commands) >= 15
    actions = {action_of(*parse_args(_argv(c))) for c in commands if "--help" not in c}
    assert actions == {"train", "resume", "evaluate", "generate"}


@pytest.mark.parametrize("command", [c for c in readme_commands() if "--help" not in c])
def test_each_readme_command_parses_into_the_action_its_flags_name(command):
    argv = _argv(command)
    config, explicit = parse_args(argv)
    named = {ACTION_FLAGS[w.split("=")[0]] for w in argv if w.split("=")[0] in ACTION_FLAGS}
    assert action_of(config, explicit) == (named.pop() if named else "train")
