"""RawGestures: selecting classes and capping samples per class."""

from __future__ import annotations

import numpy as np
import pytest

from deepnag.data import load_raw


def test_select_classes_and_cap(shared_data):
    raw = load_raw("dollar-gds", shared_data).select(("star", "arrow"), max_per_class=7)
    assert raw.class_names == ("arrow", "star")
    assert np.bincount(raw.labels).tolist() == [7, 7]
    with pytest.raises(Exception, match=r"unknown class\(es\) spiral in --classes; known: arrow"):
        load_raw("dollar-gds", shared_data).select(("spiral",))
