"""The README and the documentation site: short, their tables drawn from the committed results, nothing stale."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from benchmarks import figures
from deepnag.cli import build_parser
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()
FINDINGS = ROOT / "docs" / "findings"


def test_the_readme_is_short_and_its_first_screen_leads_to_the_commands():
    assert len(README.splitlines()) <= 300
    first_screen = "\n".join(README.splitlines()[:15])
    for section in ("#install", "#train-monitor-evaluate-generate", "#pretrained-models",
                    "#which-samples-for-my-recogniser"):
        assert section in first_screen, section
        title = section[1:].replace("-", " ")
        assert any(re.sub(r"[^a-z ]", "", h.lower()).strip() == title for h in re.findall(r"^## (.*)$", README, re.M))


def test_the_which_samples_table_is_what_the_committed_results_give():
    assert figures.recommendation_table("docs/findings/index.md") in README
    assert figures.recommendation_table("shipped-models.md") in (FINDINGS / "index.md").read_text()


def test_no_option_is_recommended_over_the_chain_for_the_learned_recogniser():
    """The 12-seed files: for the GRU no --synthesizer beat the chain by more than two standard errors."""
    learned = [option for _, kind, option, _ in figures.recommendations() if kind == "learned (GRU)"]
    assert learned == ["the chain"] * 3


def test_every_findings_page_has_its_figure_and_a_command():
    drawn = {*figures.STUDIES, "chained-training", "time-to-quality", "stroke-order"}
    pages = sorted(p for p in FINDINGS.glob("*.md") if p.name != "index.md")
    assert {p.stem for p in pages} == drawn
    for page in pages:
        text = page.read_text()
        images = re.findall(r"!\[[^\]]*\]\((figures/[^)]+\.png)\)", text)
        assert images == [f"figures/{page.stem}.png"], page.name
        assert (FINDINGS / images[0]).is_file(), images[0]
        assert "python -m benchmarks.figures" in text and re.search(r"```bash\n(python|bash) ", text), page.name


def test_the_cli_page_lists_every_flag_and_synthesizer():
    sys.path.insert(0, str(ROOT / "docs" / "hooks"))
    import cli_reference

    page = cli_reference.render()
    for action in build_parser()._actions:
        for flag in action.option_strings:
            if flag not in ("-h", "--help"):
                assert f"`{flag}`" in page, flag
    assert "`vetted-chain-mix`" in page and "| evaluate | `--evaluate` |" in page
    marker_page = (ROOT / "docs" / "reference" / "cli.md").read_text()
    assert cli_reference.on_page_markdown(marker_page, None, None, None) == marker_page.replace(cli_reference.MARKER, page)


def test_library_text_cites_docs_pages_not_readme_sections():
    for path in (ROOT / "deepnag").rglob("*.py"):
        text = path.read_text()
        assert not re.search(r"README's \"|\(README, \"|README\.md#", text), path


def test_every_results_path_the_docs_name_exists():
    for page in [ROOT / "README.md", *(ROOT / "docs").rglob("*.md")]:
        for path in re.findall(r"(benchmarks/results/[A-Za-z0-9_./-]*[A-Za-z0-9_/])", page.read_text()):
            if "*" not in path:
                assert (ROOT / path).exists(), f"{page.name}: {path}"


def _python_blocks(page: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", (ROOT / "docs" / page).read_text(), flags=re.S)


@pytest.mark.slow
@pytest.mark.parametrize("index", [pytest.param(i, marks=[pytest.mark.aeon] * ("aeon" in code))
                                   for i, code in enumerate(_python_blocks("own-recognizer.md"))])
def test_each_own_recognizer_example_runs_as_written(index, shared_data, tmp_path):
    """Each example of docs/own-recognizer.md, as written, in a fresh interpreter (the aeon one with the extra)."""
    code = _python_blocks("own-recognizer.md")[index]
    if "aeon" in code:
        pytest.importorskip("aeon", reason='the aeon extra is not installed (pip install "deepnag[aeon]")')
    (tmp_path / "pretrained_models").symlink_to(ROOT / "pretrained_models")  # the examples' relative paths
    env = {**os.environ, "DEEPNAG_DATA": str(shared_data), "MPLBACKEND": "Agg", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "error: 1 − accuracy of" in done.stdout and "of the held-out writers" in done.stdout
    assert "png" not in code or (tmp_path / "pipeline-study.png").stat().st_size > 10_000


def test_the_minirocket_page_shows_the_committed_results():
    page = (FINDINGS / "minirocket.md").read_text()
    for recognizer in ("MiniRocket", "1-NN"):
        assert figures.versus_chain_table(figures.MINIROCKET, recognizer) in page
