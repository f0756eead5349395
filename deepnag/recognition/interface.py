"""Any recogniser, through scikit-learn's interface: named on the command line, checked, seeded, and run on a set.

A recogniser is a scikit-learn-style classifier whose `fit(X, y)` and `predict(X)` take X as a list of (T, D) arrays
of any lengths: the product's own (`recognizers.Protractor`, `recognizers.JackknifeDTW`,
`gru_recognizer.GRURecognizer`, `minirocket.MiniRocket`) and anyone's. Each fit of a study is on a fresh copy
(`sklearn.base.clone`), given the study's seed as `random_state` when it takes one.
"""

from __future__ import annotations

import pkgutil
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sklearn.base import clone

from deepnag.errors import UserError
from deepnag.recognition.gru_recognizer import GRURecognizer
from deepnag.recognition.minirocket import MiniRocket

BUILT_IN: dict[str, Callable[[], Any]] = {"gru": GRURecognizer, "minirocket": MiniRocket}
"""`--recognizer` names of the product's recognisers (beside the 1-NN one, which every measurement has)."""


class RecognizerError(UserError):
    """A recogniser that cannot be used, or failed: one line naming it and what went wrong."""


def name_of(recognizer: Any) -> str:
    """How tables name a recogniser: its class's name (a factory's own name)."""
    if _is_factory(recognizer):
        return getattr(recognizer, "__name__", type(recognizer).__name__)
    return type(recognizer).__name__


def from_spec(spec: str) -> Any:
    """A recogniser from its `--recognizer` spelling: a built-in name (`BUILT_IN`) or `module:Class` (made with no
    arguments)."""
    if spec in BUILT_IN:
        return BUILT_IN[spec]()
    if ":" not in spec:
        raise RecognizerError(f"--recognizer {spec!r}: not one of {', '.join(BUILT_IN)}, nor module:Class")
    try:
        factory = pkgutil.resolve_name(spec)  # the user names it: a module on their path
    except (ImportError, AttributeError, ValueError) as error:
        raise RecognizerError(f"--recognizer {spec!r}: cannot be imported ({type(error).__name__}: {error}); "
                              "check the module is on PYTHONPATH and the class name") from None
    try:
        return checked(factory())
    except RecognizerError:
        raise
    except Exception as error:
        raise RecognizerError(f"--recognizer {spec!r}: could not be made with no arguments ({error})") from None


def checked(recognizer: Any) -> Any:
    """`recognizer` if it has `fit` and `predict`, or is a factory (seed → recogniser); else a one-line error."""
    if _is_factory(recognizer):
        return recognizer
    missing = [m for m in ("fit", "predict") if not callable(getattr(recognizer, m, None))]
    if missing:
        raise RecognizerError(f"recognizer {name_of(recognizer)} has no {' or '.join(missing)}: a recogniser is a "
                              "scikit-learn-style classifier (fit(X, y), predict(X); e.g. derived from "
                              "sklearn.base.BaseEstimator and ClassifierMixin), or a function of a seed that makes one")
    return recognizer


def _is_factory(recognizer: Any) -> bool:
    """A function or class that makes recognisers (not itself one)."""
    return callable(recognizer) and (isinstance(recognizer, type) or not hasattr(recognizer, "fit"))


def seeded(recognizer: Any, seed: int) -> Any:
    """A fresh, unfitted recogniser for `seed`: a factory's `factory(seed)`, else a copy of `recognizer`
    (`sklearn.base.clone`; a deep copy for objects without `get_params`), its `random_state` set when it has one."""
    if _is_factory(recognizer):
        try:
            made = recognizer(int(seed)) if not isinstance(recognizer, type) else recognizer()
        except Exception as error:
            raise RecognizerError(f"recognizer factory {getattr(recognizer, '__name__', recognizer)!s} raised "
                                  f"{type(error).__name__}: {error}") from None
        if _is_factory(made):
            _not_a_recognizer(made)
        return seeded(checked(made), seed) if isinstance(recognizer, type) else checked(made)
    copy = clone(recognizer, safe=False)
    if hasattr(copy, "get_params") and "random_state" in copy.get_params(deep=False):
        copy.set_params(random_state=int(seed))
    return copy


def _not_a_recognizer(made: Any) -> None:
    raise RecognizerError(f"a recognizer factory returned {name_of(made)}, which has no fit and predict")


def predictions(recognizer: Any, train: Sequence[np.ndarray], train_labels: np.ndarray,
                test: Sequence[np.ndarray]) -> np.ndarray:
    """`recognizer` fitted on the train samples, its labels for the test samples; what it raises or returns wrong
    becomes a one-line `RecognizerError` naming it."""
    name = name_of(recognizer)
    try:
        recognizer.fit(list(train), np.asarray(train_labels))
    except Exception as error:
        raise RecognizerError(f"recognizer {name}: fit raised {type(error).__name__}: {error}") from None
    try:
        predicted = np.asarray(recognizer.predict(list(test)))
    except Exception as error:
        raise RecognizerError(f"recognizer {name}: predict raised {type(error).__name__}: {error}") from None
    if predicted.shape != (len(test),):
        raise RecognizerError(f"recognizer {name}: predict returned {predicted.shape[0] if predicted.ndim else 0} "
                              f"labels (shape {predicted.shape}) for {len(test)} samples")
    return predicted


def error_rate(recognizer: Any, seed: int, train: Sequence[np.ndarray], train_labels: np.ndarray,
               test: Sequence[np.ndarray], test_labels: np.ndarray) -> float:
    """Test error of a fresh copy of `recognizer` seeded with `seed` and fitted on the train samples (a worker's job)."""
    predicted = predictions(seeded(recognizer, seed), train, train_labels, test)
    return float(np.mean(predicted != np.asarray(test_labels)))


__all__ = ["BUILT_IN", "RecognizerError", "checked", "error_rate", "from_spec", "name_of", "predictions", "seeded"]
