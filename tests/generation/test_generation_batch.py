from types import SimpleNamespace

import numpy as np
import pytest

from generation.batch import plan_batch
from generation.services import taste_clusters
from taste.document import Cluster, TasteProfileData, Tone
from taste.magenta import STYLE_DIM


@pytest.fixture
def clusters():
    rng = np.random.default_rng(0)
    base = rng.normal(0, 1, STYLE_DIM)
    return [
        (base + rng.normal(0, 0.5, STYLE_DIM), 0.5),
        (base + rng.normal(0, 0.5, STYLE_DIM), 0.3),
        (base + rng.normal(0, 0.5, STYLE_DIM), 0.2),
    ]


def _blend(clusters):
    w = np.array([w for _, w in clusters])
    return (np.stack([v for v, _ in clusters]) * w[:, None]).sum(0) / w.sum()


def test_cohesive_batches_share_the_blended_look(clusters):
    items = plan_batch(clusters, count=4, cohesion=1.0, seed=1)
    assert len(items) == 4
    for v in items:
        np.testing.assert_allclose(v, _blend(clusters), rtol=1e-5)


def test_diverse_batches_cover_the_sub_styles_by_weight(clusters):
    items = plan_batch(clusters, count=10, cohesion=0.0, seed=7)
    centres = np.stack([v for v, _ in clusters])
    nearest = [int(np.argmin(np.linalg.norm(centres - v, axis=1))) for v in items]
    assert sorted(np.bincount(nearest, minlength=3).tolist()) == [2, 3, 5]
    assert len({v.tobytes() for v in items}) == 10  # seeded variation: no duplicates


def test_cohesion_moves_items_continuously_toward_the_blend(clusters):
    blend = _blend(clusters)

    def spread(c):
        return np.mean(
            [np.linalg.norm(v - blend) for v in plan_batch(clusters, count=8, cohesion=c, seed=3)]
        )

    assert spread(0.0) > spread(0.5) > spread(0.9) > spread(1.0) == pytest.approx(0.0, abs=1e-4)


def test_batches_are_deterministic_for_a_seed(clusters):
    a = plan_batch(clusters, count=6, cohesion=0.3, seed=42)
    b = plan_batch(clusters, count=6, cohesion=0.3, seed=42)
    c = plan_batch(clusters, count=6, cohesion=0.3, seed=43)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c, strict=True))


def test_a_single_look_still_varies_a_little(clusters):
    items = plan_batch(clusters[:1], count=3, cohesion=0.0, seed=0)
    v = clusters[0][0]
    for item in items:
        assert 0 < np.linalg.norm(item - v) < 0.2 * np.linalg.norm(v)


def _ingredient(clusters, weight: float) -> SimpleNamespace:
    """A recipe row: a profile version (its typed document) at a weight."""
    document = TasteProfileData(
        version=1, encoder_id="test", n_images=len(clusters), outliers=[], keywords=[],
        avoids=[], palette=[], tone=Tone([50, 0, 0], [20, 5, 5], {}), summary="", map=[],
        coherence=1.0, method="test",
        clusters=[
            Cluster(index=i, label=f"c{i}", weight=w, members=[], representatives=[],
                    keywords=[], palette=[], style_vector=list(v), centroid=[], coherence=1.0)
            for i, (v, w) in enumerate(clusters)
        ],
    )  # fmt: skip
    return SimpleNamespace(profile=SimpleNamespace(document=document), cluster=None, weight=weight)


def test_blending_profiles_weights_each_profile_as_a_whole(clusters):
    other = [(np.full(STYLE_DIM, 5.0), 1.0)]
    flat = taste_clusters([_ingredient(clusters, 1.0), _ingredient(other, 3.0)])
    assert [round(w, 3) for _, w in flat] == [0.5, 0.3, 0.2, 3.0]
    items = plan_batch(flat, count=1, cohesion=1.0, seed=0)
    np.testing.assert_allclose(items[0], 0.25 * _blend(clusters) + 0.75 * 5.0, rtol=1e-5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"count": 0}, "count"), ({"count": 17}, "count"), ({"cohesion": 1.5}, "cohesion")],
)
def test_bad_batch_settings_are_refused(clusters, kwargs, message):
    args = {"count": 4, "cohesion": 0.5, "seed": 0, **kwargs}
    with pytest.raises(ValueError, match=message):
        plan_batch(clusters, **args)
