"""Any recogniser through scikit-learn's interface (`deepnag.recognition.interface`): the product's own pass
scikit-learn's estimator checks that apply to sequences, and anyone's plugs into --metrics and the study."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils import estimator_checks

import main
from deepnag.recognition import interface
from deepnag.recognition.gru_recognizer import GRURecognizer
from deepnag.recognition.minirocket import MiniRocket
from deepnag.recognition.recognizers import JackknifeDTW, Protractor
from tests.toy_recognizers import NearestCentroid, NoFit, Raising, WrongCount

AEON = pytest.mark.aeon
"""Tests of the aeon extra: skipped, saying so, without it; CI runs them after installing it (`pytest -m aeon`)."""
OURS = [Protractor(), Protractor(n=8, orientation_sensitive=True), JackknifeDTW(radius=3), GRURecognizer(steps=5),
        pytest.param(MiniRocket(n_kernels=84), marks=AEON)]

APPLICABLE_CHECKS = ("check_parameters_default_constructible", "check_no_attributes_set_in_init",
                     "check_get_params_invariance", "check_set_params", "check_estimators_unfitted")
"""scikit-learn's checks that do not fit on its tabular test data. The others (check_fit2d_1sample,
check_classifiers_train, check_dont_overwrite_parameters, check_n_features_in, …) fit on 2D arrays of shape
(samples, features), which a gesture recogniser reads as one sequence per row of single numbers: not gestures. What
they check (parameters left as given by fit, fitted attributes with a trailing underscore, labels kept) is checked
below on sequences instead."""


def _needs_aeon(estimator) -> None:
    if isinstance(estimator, MiniRocket):
        pytest.importorskip("aeon", reason="the aeon extra is not installed (pip install \"deepnag[aeon]\")")


def _walks(rng, labels, features=2):
    """Random walks of any lengths, one per label, shifted by the label's index among the labels seen."""
    shift = {label: i for i, label in enumerate(dict.fromkeys(np.asarray(labels).tolist()))}
    return [np.cumsum(rng.normal(size=(int(rng.integers(12, 30)), features)), axis=0) + 3 * shift[label]
            for label in np.asarray(labels).tolist()]


@pytest.mark.parametrize("estimator", OURS, ids=lambda e: repr(e))
@pytest.mark.parametrize("check", APPLICABLE_CHECKS)
def test_our_recognizers_pass_scikit_learns_checks_that_apply_to_sequences(estimator, check):
    _needs_aeon(estimator)
    getattr(estimator_checks, check)(type(estimator).__name__, estimator)


@pytest.mark.parametrize("estimator", OURS, ids=lambda e: repr(e))
def test_fit_predict_on_sequences_keeps_the_parameters_and_labels(estimator):
    _needs_aeon(estimator)
    rng = np.random.default_rng(0)
    labels = np.array(["a", "b", "c"] * 4)
    before = estimator.get_params()
    fitted = clone(estimator).fit(_walks(rng, labels), labels)
    assert clone(estimator).get_params() == before and list(fitted.classes_) == ["a", "b", "c"]
    predicted = fitted.predict(_walks(rng, labels[:5]))
    assert predicted.shape == (5,) and set(predicted) <= {"a", "b", "c"}
    if hasattr(fitted, "predict_proba"):
        proba = fitted.predict_proba(_walks(rng, labels[:5]))
        assert proba.shape == (5, 3) and np.allclose(proba.sum(axis=1), 1.0)


def test_a_seeded_copy_is_fresh_and_takes_the_seed():
    model = GRURecognizer(random_state=1, steps=3)
    copy = interface.seeded(model, 7)
    assert copy is not model and copy.random_state == 7 and model.random_state == 1
    assert interface.seeded(NearestCentroid(points=8), 7).get_params() == {"points": 8}  # no random_state: as given
    made = interface.seeded(lambda seed: GRURecognizer(random_state=seed * 2), 5)  # a factory of a seed
    assert made.random_state == 10
    assert interface.seeded(GRURecognizer, 4).random_state == 4  # a class: made, then seeded


@pytest.mark.parametrize(("recognizer", "message"), [
    (NoFit(), r"^recognizer NoFit has no fit: a recogniser is a scikit-learn-style classifier"),
    (Raising(), r"^recognizer Raising: predict raised ArithmeticError: the toy recogniser cannot predict$"),
    (WrongCount(), r"^recognizer WrongCount: predict returned 5 labels \(shape \(5,\)\) for 6 samples$"),
    (lambda seed: "not a model", r"^recognizer str has no fit or predict"),
])
def test_a_recognizer_that_cannot_work_is_a_one_line_error_naming_it(recognizer, message):
    rng = np.random.default_rng(1)
    labels = np.array([0, 1] * 3)
    with pytest.raises(interface.RecognizerError, match=message):
        interface.error_rate(interface.checked(recognizer), 0, _walks(rng, labels), labels, _walks(rng, labels), labels)


@pytest.mark.parametrize(("spec", "message"), [
    ("tests.no_such_module:X", r"^--recognizer 'tests.no_such_module:X': cannot be imported \(ModuleNotFoundError"),
    ("tests.toy_recognizers:Missing", r"^--recognizer 'tests.toy_recognizers:Missing': cannot be imported"),
    ("tests.toy_recognizers:NoFit", r"^recognizer NoFit has no fit"),
])
def test_a_recognizer_named_on_the_command_line_that_cannot_be_used_is_a_one_line_error(spec, message):
    with pytest.raises(interface.RecognizerError, match=message):
        interface.from_spec(spec)


def test_a_misspelt_recognizer_flag_is_refused_when_parsing(capsys):
    assert main.main(["--generate=a.pt", "--output=x", "--metrics", "--recognizer=gru,mini-rocket"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--recognizer 'mini-rocket' is neither one of gru, minirocket nor module:Class" in err[0]


@pytest.fixture(scope="module")
def two_writers(tmp_path_factory, shared_data):
    """A one-epoch generator of two classes trained on two writers (the others held out)."""
    logdir = tmp_path_factory.mktemp("toy") / "logs"
    assert main.main([f"--datapath={shared_data}", "--classes=arrow,star", "--resample-n=12", "--batch-size=16",
                      f"--logdir={logdir}", "--use-tensorboard=0", "--epochs=1", "--vis-frequency=0",
                      "--subjects=s02,s03"]) == 0
    return next(logdir.glob("*/checkpoints/checkpoint-final.pt"))


@pytest.mark.slow
def test_a_toy_recognizer_from_the_command_line_gets_the_studys_table(two_writers, shared_data, tmp_path, capsys,
                                                                      monkeypatch):
    from deepnag.recognition import gru_recognizer

    monkeypatch.setattr(gru_recognizer, "STEPS", 20)  # the realism test's discriminator
    out = tmp_path / "synthetic"
    assert main.main([f"--generate={two_writers}", f"--datapath={shared_data}", f"--output={out}", "--metrics=study",
                      "--recognizer=tests.toy_recognizers:NearestCentroid"]) == 0
    metrics = json.loads((tmp_path / "synthetic.metrics.json").read_text())
    (fast,) = metrics["more"]
    assert fast["recognizer"] == "NearestCentroid" and 0 <= fast["tstr_accuracy"] <= 1 and metrics["learned"] is None
    (study,) = metrics["augmentation"]["more"]
    assert study["recognizer"] == "NearestCentroid" and len(study["real_errors"]) == 5 and metrics["augmentation"][
        "learned"] is None
    assert {row["added"] for row in study["rows"]} == {row["added"] for row in metrics["augmentation"]["rows"]}
    assert all(len(row["errors"]) == 5 for row in study["rows"])
    err = capsys.readouterr().err
    assert "error: 1 − accuracy of NearestCentroid on 160 samples of the held-out writers" in err


@pytest.mark.slow
def test_a_toy_recognizer_from_python_gets_the_table_and_the_figure(two_writers, shared_data):
    import deepnag
    from deepnag.data import load_raw

    study = deepnag.study(two_writers, NearestCentroid(), datapath=shared_data, seeds=2, counts=(4,), workers=1)
    (toy,) = study.result["more"]
    raw = load_raw("dollar-gds", shared_data).select(("arrow", "star"))
    seen = np.isin(raw.subjects, ["s02", "s03"])
    direct = NearestCentroid().fit([raw.sequences[i] for i in np.flatnonzero(seen)], raw.labels[seen]).predict(
        [raw.sequences[i] for i in np.flatnonzero(~seen)])
    assert toy["real_errors"] == [float(np.mean(direct != raw.labels[~seen]))] * 2  # real alone, on each seed
    assert "error: 1 − accuracy of NearestCentroid" in study.table
    assert len(study.figure().axes) == 2  # the 1-NN's panel and the toy's
    factory = deepnag.study(two_writers, lambda seed: NearestCentroid(), datapath=shared_data, seeds=2, counts=(4,),
                            workers=1)
    assert factory.result["more"][0]["rows"] == toy["rows"]  # the same recogniser, made per seed


@pytest.mark.slow
def test_a_recognizer_that_fails_in_metrics_loses_nothing_already_measured(two_writers, shared_data, tmp_path, capsys,
                                                                           monkeypatch):
    from deepnag.recognition import gru_recognizer

    monkeypatch.setattr(gru_recognizer, "STEPS", 20)
    out = tmp_path / "synthetic"
    code = main.main([f"--generate={two_writers}", f"--datapath={shared_data}", f"--output={out}", "--metrics",
                      "--recognizer=gru,tests.toy_recognizers:Raising"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    path = tmp_path / "synthetic.metrics.json"
    assert err == ("error: recognizer Raising: predict raised ArithmeticError: the toy recogniser cannot predict; "
                   f"everything else measured is in {path}")
    metrics = json.loads(path.read_text())
    assert 0 <= metrics["tstr_accuracy"] <= 1 and metrics["learned"]["recognizer"] == "GRURecognizer"
    assert metrics["more"] == [{"recognizer": "Raising", "failed": err.removeprefix("error: ").split("; every")[0]}]


def test_without_aeon_minirocket_is_a_not_installed_row_saying_how_to_install_it(monkeypatch):
    import sys

    from deepnag.config import Config
    from deepnag.evaluation import report
    from deepnag.recognition import minirocket

    monkeypatch.setitem(sys.modules, "aeon", None)  # import aeon raises ImportError, as without the extra
    monkeypatch.setitem(sys.modules, "aeon.classification.convolution_based", None)
    assert not minirocket.available()
    with pytest.raises(minirocket.MissingExtra, match=r'^MiniRocket needs aeon, which is not installed: pip install '
                                                      r'"deepnag\[aeon\]"$'):
        MiniRocket().fit([np.zeros((12, 2))] * 2, [0, 1])
    learned, others, missing = report.chosen_recognizers(Config())
    assert learned and others == [] and missing == {"MiniRocket": 'not installed: pip install "deepnag[aeon]"'}
    table = report.table({"tstr_accuracy": 0.5, "yardstick_accuracy": 0.6, "more": [
        {"recognizer": "MiniRocket", "missing": missing["MiniRocket"]}]})
    assert table.splitlines()[-1] == 'MiniRocket: not installed: pip install "deepnag[aeon]"'


@AEON
def test_minirocket_recognises_held_out_writers_of_real_pen_gestures(shared_data):
    pytest.importorskip("aeon", reason='the aeon extra is not installed (pip install "deepnag[aeon]")')
    from deepnag.data import load_raw

    raw = load_raw("dollar-gds", shared_data).select(("arrow", "circle", "star", "v"))
    seen = np.isin(raw.subjects, ["s02", "s03"])
    model = MiniRocket(n_kernels=1000).fit([raw.sequences[i] for i in np.flatnonzero(seen)], raw.labels[seen])
    accuracy = np.mean(model.predict([raw.sequences[i] for i in np.flatnonzero(~seen)]) == raw.labels[~seen])
    assert accuracy > 0.9  # 4 classes, chance 0.25
