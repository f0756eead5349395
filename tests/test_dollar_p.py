"""$P (Vatavu, Anthony & Wobbrock, ICMI 2012): against a plain transcription of the paper's pseudocode, on distances
worked out by hand, its invariances, and 1-NN on real MMG gestures."""

from __future__ import annotations

import math

import numpy as np
import pytest

from deepnag.data import mmg
from deepnag.recognition.dollar_p import DollarP, greedy_cloud_match, normalize, resample_strokes, starts_of


# ----------------------------------------------------------------------------------------------------------------------
# The paper's pseudocode (Vatavu, Anthony & Wobbrock 2012, appendix), one point at a time, in float64
# ----------------------------------------------------------------------------------------------------------------------
def _distance(p, q) -> float:
    return math.sqrt((p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2)


def _path_length(points) -> float:
    return sum(_distance(points[i - 1], points[i]) for i in range(1, len(points)) if points[i][2] == points[i - 1][2])


def paper_resample(points, n):
    """RESAMPLE: points are (x, y, stroke id) tuples."""
    points = list(points)
    interval, accumulated, new = _path_length(points) / (n - 1), 0.0, [points[0]]
    i = 1
    while i < len(points):
        if points[i][2] == points[i - 1][2]:
            d = _distance(points[i - 1], points[i])
            if accumulated + d >= interval:
                t = (interval - accumulated) / d
                q = (points[i - 1][0] + t * (points[i][0] - points[i - 1][0]),
                     points[i - 1][1] + t * (points[i][1] - points[i - 1][1]), points[i][2])
                new.append(q)
                points.insert(i, q)  # q is the next p_i
                accumulated = 0.0
            else:
                accumulated += d
        i += 1
    if len(new) == n - 1:  # sometimes we fall a rounding error short of the last point
        new.append(points[-1])
    return new


def paper_normalize(points, n):
    """NORMALIZE: RESAMPLE, SCALE, TRANSLATE-TO-ORIGIN."""
    points = paper_resample(points, n)
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    scale = max(max(xs) - min(xs), max(ys) - min(ys))
    points = [((p[0] - min(xs)) / scale, (p[1] - min(ys)) / scale) for p in points]
    cx, cy = sum(p[0] for p in points) / n, sum(p[1] for p in points) / n
    return [(p[0] - cx, p[1] - cy) for p in points]


def paper_cloud_distance(points, template, n, start) -> float:
    """CLOUD-DISTANCE."""
    matched, total, i = [False] * n, 0.0, start
    while True:
        minimum, index = math.inf, None
        for j in range(n):
            if not matched[j]:
                d = _distance(points[i], template[j])
                if d < minimum:
                    minimum, index = d, j
        matched[index] = True
        total += (1 - ((i - start + n) % n) / n) * minimum
        i = (i + 1) % n
        if i == start:
            return total


def paper_greedy_cloud_match(points, template, n) -> float:
    """GREEDY-CLOUD-MATCH, ε = 0.5."""
    step, minimum = math.floor(n ** (1 - 0.5)), math.inf
    for i in range(0, n, step):
        minimum = min(minimum, paper_cloud_distance(points, template, n, i),
                      paper_cloud_distance(template, points, n, i))
    return minimum


def as_points(sample: np.ndarray):
    """A (T, 3) sample as the paper's (x, y, stroke id) points."""
    return [(float(x), float(y), int(s)) for (x, y), s in zip(sample[:, :2], mmg.stroke_ids(sample))]


def random_sample(rng: np.random.Generator) -> np.ndarray:
    strokes = [rng.normal(size=(int(rng.integers(2, 12)), 2)) * rng.uniform(1, 50) for _ in range(rng.integers(1, 5))]
    return mmg.sample_of(strokes)


# ----------------------------------------------------------------------------------------------------------------------
# Against the pseudocode
# ----------------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [4, 7, 16, 32])
def test_greedy_cloud_match_is_the_papers(n):
    rng = np.random.default_rng(n)
    a, b = rng.normal(size=(25, n, 2)), rng.normal(size=(25, n, 2))
    expected = [paper_greedy_cloud_match(p.tolist(), q.tolist(), n) for p, q in zip(a, b)]
    np.testing.assert_allclose(greedy_cloud_match(a, b), expected, rtol=1e-12)


def test_normalize_is_the_papers_on_multistroke_samples():
    rng = np.random.default_rng(1)
    samples = [random_sample(rng) for _ in range(30)]
    expected = [paper_normalize(as_points(s), 32) for s in samples]
    np.testing.assert_allclose(normalize(samples, 32), expected, atol=1e-9)


def test_distances_are_the_papers_on_random_multistroke_samples():
    rng = np.random.default_rng(2)
    queries = [random_sample(rng) for _ in range(7)] + [rng.normal(size=(9, 2))]  # and one (T, 2) stroke
    templates = [random_sample(rng) for _ in range(6)]
    clouds = {id(s): paper_normalize(as_points(s) if s.shape[1] == 3 else [(x, y, 0) for x, y in s], 32)
              for s in queries + templates}
    expected = [[paper_greedy_cloud_match(clouds[id(q)], clouds[id(t)], 32) for t in templates] for q in queries]
    np.testing.assert_allclose(DollarP().distance_matrix(queries, templates), expected, rtol=1e-9)


def test_float32_clouds_give_float32_distances_close_to_float64s():
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(6, 32, 2)), rng.normal(size=(9, 32, 2))
    single = DollarP().distances(a.astype(np.float32), b.astype(np.float32))
    assert single.dtype == np.float32
    np.testing.assert_allclose(single, DollarP().distances(a, b), rtol=1e-5)


def test_clouds_of_other_sizes_or_shapes_are_refused():
    with pytest.raises(ValueError, match="clouds of one size n, got 32 and 16 points"):
        DollarP().distances(np.zeros((2, 32, 2)), np.zeros((3, 16, 2)))
    with pytest.raises(ValueError, match=r"\(S, n, 2\) clouds, got \(2, 32, 3\)"):
        greedy_cloud_match(np.zeros((2, 32, 3)), np.zeros((2, 32, 3)))
    with pytest.raises(ValueError, match="paired clouds: 2 against 3"):
        greedy_cloud_match(np.zeros((2, 32, 2)), np.zeros((3, 32, 2)))


# ----------------------------------------------------------------------------------------------------------------------
# By hand
# ----------------------------------------------------------------------------------------------------------------------
def test_a_distance_worked_out_by_hand():
    # n = 4: step = floor(4^0.5) = 2, starts 0 and 2; weights 1, 3/4, 1/2, 1/4 for the 1st..4th point matched.
    a = np.array([[[0.0, 0], [1, 0], [2, 0], [3, 0]]])
    b = np.array([[[1.0, 0], [2, 0], [3, 0], [4, 0]]])
    # a → b from 0: a0→b0 1, a1→b1 1, a2→b2 1, a3→b3 1:   1 + 3/4 + 1/2 + 1/4 = 2.5
    # a → b from 2: a2→b1 0, a3→b2 0, a0→b0 1, a1→b3 3:   0 + 0 + 1/2 + 3/4 = 1.25
    # b → a from 0: b0→a1 0, b1→a2 0, b2→a3 0, b3→a0 4:   4/4 = 1
    # b → a from 2: b2→a3 0, b3→a2 2, b0→a1 0, b1→a0 2:   3/2 + 2/4 = 2
    assert starts_of(4).tolist() == [0, 2]
    assert greedy_cloud_match(a, b).tolist() == [1.0]
    assert paper_greedy_cloud_match(a[0].tolist(), b[0].tolist(), 4) == 1.0
    assert DollarP(n=4).distances(a, b).tolist() == [[1.0]]


def test_a_normalisation_worked_out_by_hand_skips_the_jump_between_strokes():
    # An "=": (0,0)→(2,0), pen up, (0,2)→(2,2). Drawn length 4 (not the jump), so 4 points are 4/3 apart:
    # (0,0), (4/3,0), then 2/3 into the second stroke (2/3,2), and (2,2). The box is 2 × 2: divided by 2 and
    # shifted by the centroid (1/2, 1/2).
    equals = np.array([[0.0, 0, 1], [2, 0, 1], [0, 2, 0], [2, 2, 1]])
    np.testing.assert_allclose(resample_strokes([equals], 4)[0], [[0, 0], [4 / 3, 0], [2 / 3, 2], [2, 2]], atol=1e-15)
    np.testing.assert_allclose(normalize([equals], 4)[0], [[-0.5, -0.5], [1 / 6, -0.5], [-1 / 6, 0.5], [0.5, 0.5]],
                               atol=1e-15)
    np.testing.assert_allclose(DollarP(n=4).features([equals]), [paper_normalize(as_points(equals), 4)], atol=1e-15)


def test_degenerate_samples_give_finite_clouds():
    dot, still = np.array([[3.0, 4.0, 1.0]]), np.array([[1.0, 1.0], [1.0, 1.0]])
    clouds = normalize([dot, still], 8)
    assert np.isfinite(clouds).all() and not clouds.any()
    with pytest.raises(ValueError, match=r"\(T, 2\) or \(T, 3\)"):
        normalize([np.zeros((3, 4))], 8)


# ----------------------------------------------------------------------------------------------------------------------
# Invariances
# ----------------------------------------------------------------------------------------------------------------------
def test_the_matching_ignores_the_order_of_the_points():
    clouds = normalize([random_sample(np.random.default_rng(3))], 32)
    shuffled = clouds[:, np.random.default_rng(4).permutation(32)]
    assert greedy_cloud_match(clouds, shuffled).tolist() == [0.0]


def test_a_stroke_drawn_backwards_is_the_same_cloud():
    rng = np.random.default_rng(5)
    stroke = np.cumsum(rng.normal(size=(40, 2)), axis=0)
    forwards, backwards = mmg.sample_of([stroke]), mmg.sample_of([stroke[::-1]])
    assert DollarP().distance_matrix([forwards], [backwards])[0, 0] < 1e-12
    far = DollarP().distance_matrix([forwards], [mmg.sample_of([stroke * [1, -1]])])[0, 0]
    assert far > 0.1  # mirrored is another gesture: $P is not blind to everything


def test_translation_and_scale_do_not_matter():
    sample = random_sample(np.random.default_rng(6))
    moved = sample.copy()
    moved[:, :2] = moved[:, :2] * 3.5 + [100, -20]
    assert DollarP().distance_matrix([sample], [moved])[0, 0] < 1e-9


# ----------------------------------------------------------------------------------------------------------------------
# Real gestures
# ----------------------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def writer_10(mmg_data):
    """The medium-speed gestures of stylus writer 10 (160: 10 of each class), from the real MMG archive."""
    raw = mmg.load(mmg_data, device="pen")
    keep = np.flatnonzero(np.array(raw.subjects) == "10")
    return [raw.sequences[i] for i in keep], raw.labels[keep]


def test_one_template_per_class_recognises_another_repetition(writer_10):
    samples, labels = writer_10
    first = [np.flatnonzero(labels == c)[0] for c in range(16)]
    second = [np.flatnonzero(labels == c)[1] for c in range(16)]
    recogniser = DollarP().fit([samples[i] for i in first], labels[first])
    assert recogniser.predict([samples[i] for i in second]).tolist() == list(range(16))


def test_strokes_swapped_and_reversed_keep_every_nearest_class(writer_10):
    samples, labels = writer_10

    def redrawn(sample):
        strokes = [s[::-1] if k % 2 == 0 else s for k, s in enumerate(mmg.strokes_of(sample))]
        return mmg.sample_of(strokes[1:2] + strokes[:1] + strokes[2:])  # first two strokes swapped, some reversed

    changed = [redrawn(s) for s in samples]
    assert sum(not np.array_equal(a, b) for a, b in zip(changed, samples)) == len(samples)
    distances = DollarP().distance_matrix(changed, samples)
    np.testing.assert_array_equal(labels[distances.argmin(axis=1)], labels)
    assert np.median(np.diag(distances)) < 0.2 * np.median(distances)


# ----------------------------------------------------------------------------------------------------------------------
# Bounds: what 1-NN needs, and no more
# ----------------------------------------------------------------------------------------------------------------------
def test_bounded_distances_are_exact_below_each_bound_and_at_least_it_above():
    rng = np.random.default_rng(7)
    a, b = rng.normal(size=(8, 32, 2)), rng.normal(size=(40, 32, 2))
    exact = DollarP().distances(a, b)
    bounds = np.median(exact, axis=1)
    bounded = DollarP().bounded_distances(a, b, bounds)
    below = exact < bounds[:, None]
    np.testing.assert_array_equal(bounded[below], exact[below])
    assert np.all(bounded[~below] >= np.broadcast_to(bounds[:, None], exact.shape)[~below])
    assert np.mean(bounded[~below] < exact[~below]) > 0.5  # runs were cut short
    single = DollarP().bounded_distances(a.astype(np.float32), b.astype(np.float32), bounds)  # bounds in float64
    exact_single = DollarP().distances(a.astype(np.float32), b.astype(np.float32))
    below_single = exact_single < bounds[:, None]
    np.testing.assert_array_equal(single[below_single], exact_single[below_single])
    assert np.all(single[~below_single] >= np.broadcast_to(bounds[:, None], exact.shape)[~below_single])
    with pytest.raises(ValueError, match=r"one bound per query: \(3,\) for 8 queries"):
        DollarP().bounded_distances(a, b, bounds[:3])


def test_nearest_is_the_first_least_distance():
    rng = np.random.default_rng(8)
    a, b = rng.normal(size=(30, 16, 2)), rng.normal(size=(50, 16, 2))
    b[7] = b[3]  # a tie: the first of equals
    exact = DollarP(n=16).distances(a, b)
    np.testing.assert_array_equal(DollarP(n=16).nearest(a, b), exact.argmin(axis=1))
    assert np.all(DollarP(n=16).nearest(b[[3, 7]], b) == 3)


def test_the_held_out_studys_1nn_rows_are_those_of_exact_distances(writer_10, monkeypatch):
    from deepnag.evaluation import augmentation

    samples, labels = writer_10
    reps = np.concatenate([np.arange(np.sum(labels == c)) for c in range(16)])[np.argsort(np.argsort(labels,
                                                                                                     kind="stable"))]
    seen = [samples[i] for i in np.flatnonzero(reps < 2)]
    test = [samples[i] for i in np.flatnonzero(reps >= 2)]
    seen_labels, test_labels = labels[reps < 2], labels[reps >= 2]

    def jittered(k: int, seed: int):
        rng = np.random.default_rng(seed)
        picks = np.concatenate([rng.choice(np.flatnonzero(seen_labels == c), k) for c in range(16)])
        out = [seen[i] + np.c_[rng.normal(0, 4, (len(seen[i]), 2)), np.zeros(len(seen[i]))] for i in picks]
        return out, (seen_labels[picks] + seed % 2) % 16  # seed 1 mislabels them: rows where bounds matter

    def run():
        return augmentation.study(seen, seen_labels, test, test_labels, 16, jittered, counts=(1, 3), seeds=(0, 1),
                                  learned=False)

    bounded = run()
    monkeypatch.setattr(DollarP, "bounded_distances", lambda self, q, t, bounds: self.distances(q, t))
    assert run() == bounded
    assert max(np.mean(row["errors"]) for row in bounded["rows"]) > 0  # mislabelled added samples won: bounds matter
