import numpy as np
import pytest
from scipy.spatial.distance import pdist

from taste.clustering import adjusted_rand, cluster_embeddings, project_2d
from taste.encoders import Block, MagentaDescriptorEncoder, get_encoder
from testkit.looks import LOOKS, make_board

BLOCKS = MagentaDescriptorEncoder.blocks


def _embeddings(items):
    return np.stack([it.embedding for it in items])


# Pairs of looks that are hard to tell apart (close casts, colour strengths), boards the
# previous complete-linkage method split or merged wrongly, and the full six-look board.
MIXED_BOARDS = [
    ("mono_contrast", "warm_film"),
    ("warm_film", "teal_orange"),
    ("teal_orange", "saturated_pop"),
    ("teal_orange", "cyanotype"),
    ("warm_film", "saturated_pop"),
    ("saturated_pop", "cyanotype"),
    ("mono_contrast", "warm_film", "teal_orange"),
    ("pastel", "cyanotype", "saturated_pop"),
    ("warm_film", "teal_orange", "saturated_pop", "cyanotype"),
    tuple(LOOKS),
]


@pytest.mark.parametrize("looks", MIXED_BOARDS, ids="+".join)
def test_mixed_boards_over_the_same_subjects_are_clustered_by_look(board, looks):
    items, labels = board(looks)
    result = cluster_embeddings(_embeddings(items), BLOCKS)
    assert result.n_clusters == len(looks)
    assert adjusted_rand(labels, result.labels) >= 0.8


@pytest.mark.parametrize("look", list(LOOKS))
def test_a_single_look_board_is_one_cluster(board, look):
    items, _ = board([look])
    result = cluster_embeddings(_embeddings(items), BLOCKS)
    assert result.n_clusters == 1
    assert len(result.outliers) <= 1


@pytest.fixture(scope="session")
def big_boards():
    """36 images each of the two looks whose images vary most (the old method split
    them even at 12 images): big boards must not split just because they are big."""
    encoder = get_encoder(MagentaDescriptorEncoder.id)
    out = {}
    for look in ("teal_orange", "saturated_pop"):
        images = [b.image for seed in (6, 7, 8) for b in make_board([look], 12, seed=seed)]
        out[look] = encoder.embed(images)
    return out


@pytest.mark.parametrize("look", ["teal_orange", "saturated_pop"])
def test_a_big_single_look_board_is_still_one_cluster(big_boards, look):
    result = cluster_embeddings(big_boards[look], BLOCKS)
    assert result.n_clusters == 1
    assert len(result.outliers) == 0


def test_a_big_board_of_two_close_looks_still_splits(big_boards):
    x = np.vstack([big_boards["teal_orange"], big_boards["saturated_pop"]])
    truth = ["teal_orange"] * 36 + ["saturated_pop"] * 36
    result = cluster_embeddings(x, BLOCKS)
    assert result.n_clusters == 2
    assert adjusted_rand(truth, result.labels) >= 0.8


@pytest.mark.parametrize(
    ("main", "odd"), [("mono_contrast", "saturated_pop"), ("pastel", "mono_contrast")]
)
def test_an_obvious_outlier_is_flagged_not_forced(board, main, odd):
    items, _ = board({main: 11, odd: 1})
    result = cluster_embeddings(_embeddings(items), BLOCKS)
    assert result.n_clusters == 1
    assert list(result.outliers) == [11]


def test_untouched_photographs_do_not_explode_into_tiny_clusters():
    from moodboards.samples import SAMPLES, sample_image

    encoder = get_encoder(MagentaDescriptorEncoder.id)
    x = encoder.embed([sample_image(name) for name in SAMPLES])
    result = cluster_embeddings(x, BLOCKS)
    assert 1 <= result.n_clusters <= 4
    assert len(result.outliers) <= 2
    sizes = np.bincount(result.labels[result.labels >= 0])
    assert sizes.min() >= 3


def test_clustering_is_deterministic(board):
    items, _ = board(["mono_contrast", "pastel", "warm_film"])
    x = _embeddings(items)
    a = cluster_embeddings(x, BLOCKS).labels
    b = cluster_embeddings(x.copy(), BLOCKS).labels
    assert (a == b).all()


@pytest.mark.parametrize("n", [1, 2])
def test_tiny_boards_are_one_cluster(board, n):
    items, _ = board({"warm_film": n})
    result = cluster_embeddings(_embeddings(items), BLOCKS)
    assert list(result.labels) == [0] * n


def test_identical_images_are_one_cluster_and_still_visible_on_the_map(board):
    items, _ = board({"warm_film": 1})
    x = np.repeat(_embeddings(items), 6, axis=0)
    result = cluster_embeddings(x, BLOCKS)
    assert list(result.labels) == [0] * 6
    coords = project_2d(result.features)
    assert np.abs(coords - 0.5).max() < 0.1  # a small patch in the middle
    assert pdist(coords).min() >= 0.01


def test_generic_embeddings_use_silhouette():
    rng = np.random.default_rng(0)
    blob = rng.normal(0, 0.05, (10, 32))
    two = np.vstack([blob + 1.0, blob[::-1] - 1.0])
    blocks = (Block("clip", 32),)
    assert cluster_embeddings(two, blocks).n_clusters == 2
    one = rng.normal(0, 1.0, (20, 32))
    assert cluster_embeddings(one, blocks).n_clusters == 1


def _map_checks(coords, labels):
    assert coords.min() >= 0.0 and coords.max() <= 1.0
    assert np.isclose(np.ptp(coords, axis=0).max(), 1.0)
    # No two points on top of each other at the page's scale (1% of the range is
    # ~5 px of the 560 px plot).
    assert pdist(coords).min() >= 0.01
    # Clusters stay visually grouped: nearly every point is closer to its own
    # cluster's centre on the map than to any other cluster's.
    inliers = labels >= 0
    centres = np.stack([coords[labels == c].mean(0) for c in range(labels.max() + 1)])
    nearest = np.linalg.norm(coords[inliers, None] - centres[None], axis=2).argmin(1)
    assert np.mean(nearest == labels[inliers]) >= 0.9


@pytest.mark.parametrize(
    "looks", [("mono_contrast", "warm_film"), tuple(LOOKS)], ids=["two-looks", "six-looks"]
)
def test_map_is_normalised_spread_and_grouped(board, looks):
    items, _ = board(looks)
    result = cluster_embeddings(_embeddings(items), BLOCKS)
    coords = project_2d(result.features)
    assert coords.shape == (len(items), 2)
    _map_checks(coords, result.labels)
    assert np.array_equal(coords, project_2d(result.features.copy()))  # deterministic


def test_map_of_500_images_with_duplicates_is_spread():
    # Its speed is a benchmark figure (bench/analyze.py, part d).
    # Six tight groups in a 110-d space, each image three times (re-uploads).
    rng = np.random.default_rng(1)
    centres = rng.normal(0, 4.0, (6, 110))
    base = np.vstack([c + rng.normal(0, 0.3, (28, 110)) for c in centres])
    features = np.vstack([base] * 3)[:500]
    labels = np.tile(np.repeat(np.arange(6), 28), 3)[:500]
    coords = project_2d(features)
    _map_checks(coords, labels)


def test_mismatched_blocks_are_rejected():
    with pytest.raises(ValueError, match="blocks cover"):
        cluster_embeddings(np.zeros((3, 5)), BLOCKS)
