"""UserError: the one exception the command line prints on one line, with its exit status."""

from __future__ import annotations

from deepnag import cli
from deepnag.errors import UserError


def test_a_user_error_is_printed_on_one_line_with_its_exit_code(monkeypatch, capsys):
    class Refused(UserError):
        exit_code = 7

    def fail(config, explicit, **hooks):
        raise Refused("the thing is wrong; do this")

    monkeypatch.setattr("deepnag.train.loop.train", fail)
    assert cli.main(["--epochs=1"]) == 7
    assert capsys.readouterr().err == "error: the thing is wrong; do this\n"


def test_the_default_exit_code_is_argparses():
    assert UserError("x").exit_code == 2
