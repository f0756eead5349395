"""MkDocs hook: the CLI reference page, generated at build time from the parser and the action table.

`docs/reference/cli.md` holds only a marker; what replaces it comes from `deepnag.cli.build_parser()` (every
flag with its group, default and help) and `deepnag.actions` (each action, the flags it takes, each synthesizer),
so the page cannot drift from the command line. Importing `deepnag.cli` needs no torch or NumPy.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

MARKER = "<!-- cli-reference -->"
ROOT = Path(__file__).resolve().parents[2]


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _flag_tables(parser: argparse.ArgumentParser) -> list[str]:
    out = []
    for group in parser._action_groups:
        actions = [a for a in group._group_actions if a.option_strings and a.dest != "help"]
        if not actions:
            continue
        out += [f"### {group.title.capitalize()}", "", "| flag | default | what it does |", "|---|---|---|"]
        for action in actions:
            names = ", ".join(f"`{name}`" for name in action.option_strings)
            metavar = f" `{action.metavar}`" if isinstance(action.metavar, str) else ""
            value = ",".join(map(str, action.default)) if isinstance(action.default, tuple) else action.default
            default = "—" if value in (None, argparse.SUPPRESS, "", False) else f"`{value}`"
            text = (action.help or "").replace("%(default)s", str(action.default)).replace("%%", "%")
            out.append(f"| {names}{metavar} | {_cell(default)} | {_cell(text)} |")
        out.append("")
    return out


def render() -> str:
    """The reference's Markdown: the actions, the synthesizers, then every flag by group."""
    sys.path.insert(0, str(ROOT))
    from deepnag.actions import ACTIONS
    from deepnag.cli import build_parser
    from deepnag.generate.synthesizers import SYNTHESIZERS

    lines = ["## Actions", "", "A command runs one action; a flag that the action does not take is refused.", "",
             "| action | started by | what it does |", "|---|---|---|"]
    for action in ACTIONS.values():
        called = f"`{action.called}`" if action.called.startswith("--") else "no action flag"
        lines.append(f"| {action.name} | {called} | {_cell(action.help)} |")
    lines += ["", "## Synthesizers (`--synthesizer`)", "", "Each is one composition of the building blocks of "
              "`deepnag.generate.synthesizers`.", "", "| name | composed of | needs a checkpoint | what it writes |",
              "|---|---|---|---|"]
    for synth in SYNTHESIZERS.values():
        lines.append(f"| `{synth.name}` | `{synth.block.name}` | {'yes' if synth.needs_checkpoint else 'no'} | "
                     f"{_cell(synth.help)} |")
    lines += ["", "## Flags", ""] + _flag_tables(build_parser())
    return "\n".join(lines) + "\n"


def on_page_markdown(markdown: str, page, config, files) -> str:  # noqa: ARG001 (MkDocs' hook signature)
    return markdown.replace(MARKER, render()) if MARKER in markdown else markdown
