"""Class-aware Hausdorff distances against an explicit loop over pairs (as the reference's own tests do)."""

from __future__ import annotations

import pytest
import torch

from deepnag.errors import UserError
from deepnag.loss import hausdorff as hausdorff_module
from deepnag.loss.costs import cosine_cost, squared_euclidean_cost
from deepnag.loss.hausdorff import ClassAwareHausdorff, class_aware_hausdorff
from deepnag.loss.soft_dtw_autograd import soft_dtw

COSTS = {"ed": squared_euclidean_cost, "cos": cosine_cost}
# uneven classes: 4, 2, 1 (a singleton), 3, and labels that are not 0..C-1
LABELS = torch.tensor([7, 7, 2, 7, 5, 2, 7, 9, 9, 9])


def _loop_hausdorff(a, b, labels, distance, gamma, variant):
    """The reference's test oracle: per-pair soft-DTW through the dense cost, minima and class means in loops."""
    B = len(labels)

    def m(i, j):
        return soft_dtw(COSTS[distance](a[i:i + 1], b[j:j + 1]), gamma)[0]

    a_to_b, b_to_a, matching = [], [], []
    for i in range(B):
        same = [j for j in range(B) if labels[i] == labels[j]]
        matching.append(same)
        a_to_b.append(torch.stack([m(i, j) for j in same]).min())
        b_to_a.append(torch.stack([m(j, i) for j in same]).min())
    a_to_b, b_to_a = torch.stack(a_to_b), torch.stack(b_to_a)
    total = 0
    for same in matching:  # one term per sample, aggregated over its class
        if variant == "hd":
            total = total + torch.maximum(a_to_b[same].max(), b_to_a[same].max())
        elif variant == "mhd":
            total = total + torch.maximum(a_to_b[same].mean(), b_to_a[same].mean())
        else:
            total = total + (a_to_b[same].mean() + b_to_a[same].mean()) / 2
    return total


def _batches(n=9, m=11, D=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    a = (torch.rand(len(LABELS), n, D, generator=g, dtype=torch.float64) * 2 - 1).requires_grad_(True)
    b = (torch.rand(len(LABELS), m, D, generator=g, dtype=torch.float64) * 2 - 1).requires_grad_(True)
    return a, b


@pytest.mark.parametrize("distance", ["ed", "cos"])
@pytest.mark.parametrize("variant", ["ahd", "mhd", "hd"])
def test_variants_match_the_loop_over_pairs_values_and_gradients(distance, variant):
    a, b = _batches(seed=len(distance) + len(variant))
    ours = class_aware_hausdorff(a, b, LABELS, distance, gamma=0.1, variant=variant)
    ga, gb = torch.autograd.grad(ours, (a, b))
    want = _loop_hausdorff(a, b, LABELS, distance, 0.1, variant)
    wa, wb = torch.autograd.grad(want, (a, b))
    assert ours.dim() == 0
    assert ours.item() == pytest.approx(want.item(), rel=1e-10)
    torch.testing.assert_close(ga, wa, rtol=1e-8, atol=1e-10)
    torch.testing.assert_close(gb, wb, rtol=1e-8, atol=1e-10)


def test_ahd_is_the_spec_formula_and_a_sum_over_the_batch():
    a, b = _batches(seed=3)
    a, b = a.detach(), b.detach()
    B = len(LABELS)
    d = torch.full((B, B), float("inf"), dtype=torch.float64)
    for i in range(B):
        for j in range(B):
            if LABELS[i] == LABELS[j]:
                d[i, j] = soft_dtw(squared_euclidean_cost(a[i:i + 1], b[j:j + 1]), 0.1)[0]
    spec = 0.5 * (d.min(dim=1).values.sum() + d.min(dim=0).values.sum())
    assert class_aware_hausdorff(a, b, LABELS).item() == pytest.approx(spec.item(), rel=1e-10)
    # twice the batch (same labels twice) is twice the distance: a sum, not a mean
    a2, b2, l2 = torch.cat([a, a]), torch.cat([b, b]), torch.cat([LABELS, LABELS + 100])
    assert class_aware_hausdorff(a2, b2, l2).item() == pytest.approx(2 * spec.item(), rel=1e-10)


def test_only_same_class_pairs_are_computed(monkeypatch):
    seen = []
    real = hausdorff_module.soft_dtw_features

    def spy(f, g, distance, gamma, bandwidth):
        seen.append(f.shape[0])
        return real(f, g, distance, gamma, bandwidth)

    monkeypatch.setattr(hausdorff_module, "soft_dtw_features", spy)
    a, b = _batches()
    class_aware_hausdorff(a, b, LABELS)
    counts = torch.unique(LABELS, return_counts=True)[1]
    assert seen == [int((counts ** 2).sum())] and seen[0] < len(LABELS) ** 2


def test_identical_batches_of_distinct_samples_have_the_self_soft_dtw_as_distance():
    a, _ = _batches(seed=5)
    a = a.detach()
    labels = torch.arange(len(LABELS))  # every sample alone in its class
    self_dist = sum(soft_dtw(squared_euclidean_cost(a[i:i + 1], a[i:i + 1]), 0.1)[0] for i in range(len(a)))
    assert class_aware_hausdorff(a, a, labels).item() == pytest.approx(float(self_dist), rel=1e-10)


def test_float32_and_module_wrapper():
    a, b = _batches(n=64, m=64, D=2, seed=6)
    h32 = ClassAwareHausdorff("cos", 0.1, "ahd")(a.detach().float(), b.detach().float(), LABELS)
    h64 = class_aware_hausdorff(a.detach(), b.detach(), LABELS, "cos")
    assert h32.dtype == torch.float32 and h32.item() == pytest.approx(h64.item(), rel=1e-4)


def _with_nan(a: torch.Tensor) -> torch.Tensor:
    nan = a.detach().clone()
    nan[3, 1, 1] = float("nan")
    return nan


B = len(LABELS)
# Each bad input (a, b: the 9- and 11-point batches of _batches) and the error it must give, whole where it is ours.
BAD_INPUTS = {
    "labels one short": (lambda a, b: class_aware_hausdorff(a, b, LABELS[:-1]),
                         rf"^labels must be a 1-D tensor with one label per sample \({B}\); got shape \({B - 1},\)$"),
    "labels of shape (B, 1)": (lambda a, b: class_aware_hausdorff(a, b, LABELS[:, None]),
                               rf"one label per sample \({B}\); got shape \({B}, 1\)$"),
    "labels as a list": (lambda a, b: class_aware_hausdorff(a, b, LABELS.tolist()),
                         rf"one label per sample \({B}\); got shape \(\)$"),
    "float labels": (lambda a, b: class_aware_hausdorff(a, b, LABELS.float()), r"^labels must be integers; got torch\.float32$"),
    "bool labels": (lambda a, b: class_aware_hausdorff(a, b, LABELS > 5), r"^labels must be integers; got torch\.bool$"),
    "complex labels": (lambda a, b: class_aware_hausdorff(a, b, LABELS.to(torch.complex64)),
                       r"^labels must be integers; got torch\.complex64$"),
    "unknown variant": (lambda a, b: class_aware_hausdorff(a, b, LABELS, variant="median"), "variant"),
    "unknown distance": (lambda a, b: class_aware_hausdorff(a, b, LABELS, distance="l1"), "distance"),
    "batch sizes": (lambda a, b: class_aware_hausdorff(a, b[:-1], LABELS),
                    rf"^the two batches must have the same batch size; got {B} and {B - 1}$"),
    "one point (cos)": (lambda a, b: class_aware_hausdorff(a[:, :1], b[:, :1], LABELS, "cos"),
                        r"^the two batches need at least 2 time step\(s\); got lengths 1 and 1$"),
    "empty batch": (lambda a, b: class_aware_hausdorff(a[:0], b[:0], LABELS[:0]),
                    "^class-aware Hausdorff distance of an empty batch$"),
    "gamma 0": (lambda a, b: class_aware_hausdorff(a, b, LABELS, gamma=0), "gamma"),
    "a NaN": (lambda a, b: class_aware_hausdorff(_with_nan(a), b, LABELS), "NaN or inf"),
}


@pytest.mark.parametrize(("call", "message"), BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_bad_input_raises_a_clear_user_error(call, message):
    a, b = _batches()
    with pytest.raises(UserError, match=message):
        call(a, b)


def test_the_shortest_sequences_each_distance_accepts():
    """One point is a sequence for 'ed'; 'cos' needs two (one direction)."""
    a, b = _batches()
    for distance, length in (("ed", 1), ("cos", 2)):
        got = class_aware_hausdorff(a[:, :length], b[:, :length], LABELS, distance)
        want = _loop_hausdorff(a[:, :length], b[:, :length], LABELS, distance, 0.1, "ahd")
        assert got.detach().item() == pytest.approx(float(want.detach()), rel=1e-10)


def test_the_module_refuses_bad_settings_naming_what_is_allowed():
    with pytest.raises(UserError, match=r"^Hausdorff distance must use one of \['cos', 'ed'\]; got 'l1'$"):
        ClassAwareHausdorff(distance="l1")
    with pytest.raises(UserError, match=r"^Hausdorff variant must be one of \['ahd', 'mhd', 'hd'\]; got 'max'$"):
        ClassAwareHausdorff(variant="max")
    with pytest.raises(UserError, match=r"bandwidth must be None or a finite number >= 0; got -1"):
        ClassAwareHausdorff(bandwidth=-1)


def test_the_module_passes_every_setting_on():
    g = torch.Generator().manual_seed(3)
    a, b = torch.rand(4, 6, 2, generator=g, dtype=torch.float64), torch.rand(4, 6, 2, generator=g, dtype=torch.float64)
    labels = torch.tensor([0, 0, 1, 1])
    for settings in ({"distance": "cos"}, {"gamma": 0.5}, {"variant": "mhd"}, {"bandwidth": 1}):
        module = ClassAwareHausdorff(**settings)(a, b, labels)
        assert module.item() == class_aware_hausdorff(a, b, labels, **settings).item()
        assert module.item() != class_aware_hausdorff(a, b, labels).item(), settings  # the setting matters here
