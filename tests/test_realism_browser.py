"""A participant takes the realism study in a real headless browser (Debian's chromium and chromium-driver, through
Selenium): clicks and keys, practice feedback, a reload that resumes; the stored answers are the ones given, and a
screenshot of a trial of a pen data set and of a skeleton data set is a drawing, not a blank canvas."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pytest

from deepnag.cli import parse_args
from deepnag.realism import study
from tests.conftest import ROOT
from tests.realism_fakes import serving

MODELS = {"pen": ROOT / "pretrained_models" / "DeepNAG" / "dollar-gds-2-writers" / "generator.pt",
          "skeleton": ROOT / "pretrained_models" / "DeepNAG" / "jk2017-kinect" / "generator.pt"}
WAIT_S = 30
MIN_INK = 400
"""Dark pixels a drawn trial has at least (a pen trace several pixels wide, or a skeleton's bones)."""


def _browser():
    """Headless chromium through its driver; the test is skipped, saying why, only where they are not installed."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver") or next((p for p in ("/usr/lib/chromium/chromedriver",) if Path(p).is_file()),
                                                  None)
    if not chromium or not driver:
        pytest.skip("chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (requirements-test.txt)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=700,900"):
        options.add_argument(argument)
    return webdriver.Chrome(service=webdriver.ChromeService(executable_path=driver), options=options)


def _open(kind: str, shared_data: Path, folder: Path, trials: int, practice: int) -> study.Study:
    config, explicit = parse_args([f"--realism-study={MODELS[kind]}", f"--datapath={shared_data}",
                                   f"--study-dir={folder}", f"--trials={trials}", f"--practice-trials={practice}"])
    return study.open_study(config, explicit)


def _shown(driver, trial: int, drawn: bool = False):
    """Wait for trial `trial` on the canvas (and, with `drawn`, for its animation's last frame); return the canvas."""
    from selenium.webdriver.support.ui import WebDriverWait

    def ready(d):
        stage = d.find_element("id", "stage")
        return stage if stage.is_displayed() and stage.get_attribute("data-trial") == str(trial) and \
            (not drawn or stage.get_attribute("data-done") == "1") else False

    return WebDriverWait(driver, WAIT_S).until(ready)


def _ink(canvas, path: Path) -> int:
    """Save the canvas's screenshot; return its count of dark pixels."""
    from PIL import Image

    png = canvas.screenshot_as_png
    path.write_bytes(png)
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("L"))
    assert pixels.shape[0] > 200 and pixels.shape[1] > 200 and (pixels > 240).mean() > 0.5  # a white canvas...
    return int((pixels < 128).sum())  # ...with a drawing on it


def _answer(driver, trial: int, choice: str) -> None:
    """By click on even trials, by key (R, G) on odd ones."""
    from selenium.webdriver.common.action_chains import ActionChains

    if trial % 2 == 0:
        driver.find_element("id", choice).click()
    else:
        ActionChains(driver).send_keys(choice[0]).perform()


@pytest.mark.slow
def test_a_participant_takes_a_pen_study_in_the_browser(shared_data, tmp_path):
    from selenium.webdriver.support.ui import WebDriverWait

    opened = _open("pen", shared_data, tmp_path / "study", trials=4, practice=2)
    driver = _browser()
    given = []
    try:
        with serving(opened) as base:
            driver.get(f"{base}/")
            WebDriverWait(driver, WAIT_S).until(lambda d: d.find_element("id", "start").is_displayed())
            driver.find_element("id", "start").click()
            for trial in range(6):
                canvas = _shown(driver, trial, drawn=trial in (0, 2))
                if trial == 2:
                    assert _ink(canvas, tmp_path / "pen-trial.png") > MIN_INK
                choice = ("real", "generated")[trial % 3 == 1]
                _answer(driver, trial, choice)
                given.append(choice)
                if trial < 2:  # practice: told whether it was right
                    WebDriverWait(driver, WAIT_S).until(
                        lambda d: d.find_element("id", "feedback").text.startswith(("Right: it was", "Wrong: it was")))
                if trial == 3:
                    _shown(driver, 4)
                    driver.refresh()  # a reload resumes at the first unanswered trial, without the intro
            WebDriverWait(driver, WAIT_S).until(lambda d: d.find_element("id", "done").is_displayed())
            assert driver.find_element("id", "error").text == ""
    finally:
        driver.quit()
    stored = opened.store.answers()
    opened.store.close()
    assert [a["answer"] for a in stored] == given and [a["trial"] for a in stored] == list(range(6))
    assert [a["practice"] for a in stored] == [1, 1, 0, 0, 0, 0] and all(a["ms"] > 0 for a in stored)
    assert len({a["session"] for a in stored}) == 1


@pytest.mark.slow
def test_a_skeleton_trial_is_drawn_in_the_browser(shared_data, tmp_path):
    from selenium.webdriver.support.ui import WebDriverWait

    opened = _open("skeleton", shared_data, tmp_path / "study", trials=2, practice=0)
    driver = _browser()
    try:
        with serving(opened) as base:
            driver.get(f"{base}/")
            driver.find_element("id", "start").click()
            assert _ink(_shown(driver, 0, drawn=True), tmp_path / "skeleton-trial.png") > MIN_INK
            _answer(driver, 1, "generated")  # by key
            _shown(driver, 1)
            _answer(driver, 0, "real")
            WebDriverWait(driver, WAIT_S).until(lambda d: d.find_element("id", "done").is_displayed())
    finally:
        driver.quit()
    stored = opened.store.answers()
    opened.store.close()
    assert [(a["trial"], a["answer"]) for a in stored] == [(0, "generated"), (1, "real")]
