import numpy as np
import pytest

from taste.clustering import adjusted_rand, cluster_embeddings, project_2d
from taste.encoders import Block, MagentaDescriptorEncoder

BLOCKS = MagentaDescriptorEncoder.blocks


def _embeddings(items):
    return np.stack([it.embedding for it in items])


@pytest.mark.parametrize(
    "looks",
    [
        ("mono_contrast", "warm_film", "teal_orange"),
        ("pastel", "cyanotype", "saturated_pop"),
    ],
)
def test_three_looks_over_the_same_subjects_are_clustered_by_look(board, looks):
    items, labels = board(looks)
    result = cluster_embeddings(_embeddings(items), BLOCKS)
    assert result.n_clusters == 3
    assert adjusted_rand(labels, result.labels) >= 0.8


def test_two_looks_give_two_clusters(board):
    items, labels = board(["warm_film", "cyanotype"])
    result = cluster_embeddings(_embeddings(items), BLOCKS)
    assert result.n_clusters == 2
    assert adjusted_rand(labels, result.labels) >= 0.9


@pytest.mark.parametrize("look", ["mono_contrast", "warm_film", "pastel", "cyanotype"])
def test_a_single_look_board_is_one_cluster(board, look):
    items, _ = board([look])
    result = cluster_embeddings(_embeddings(items), BLOCKS)
    assert result.n_clusters == 1
    assert len(result.outliers) <= 1


def test_an_obvious_outlier_is_flagged_not_forced(board):
    items, _ = board({"mono_contrast": 11, "saturated_pop": 1})
    result = cluster_embeddings(_embeddings(items), BLOCKS)
    assert result.n_clusters == 1
    assert list(result.outliers) == [11]


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


def test_identical_images_are_one_cluster(board):
    items, _ = board({"warm_film": 1})
    x = np.repeat(_embeddings(items), 6, axis=0)
    result = cluster_embeddings(x, BLOCKS)
    assert list(result.labels) == [0] * 6
    assert np.allclose(project_2d(result.features), 0.5)


def test_generic_embeddings_use_silhouette():
    rng = np.random.default_rng(0)
    blob = rng.normal(0, 0.05, (10, 32))
    two = np.vstack([blob + 1.0, blob[::-1] - 1.0])
    blocks = (Block("clip", 32),)
    assert cluster_embeddings(two, blocks).n_clusters == 2
    one = rng.normal(0, 1.0, (20, 32))
    assert cluster_embeddings(one, blocks).n_clusters == 1


def test_map_is_normalised(board):
    items, _ = board(["mono_contrast", "warm_film"])
    coords = project_2d(cluster_embeddings(_embeddings(items), BLOCKS).features)
    assert coords.shape == (len(items), 2)
    assert coords.min() >= 0.0 and coords.max() <= 1.0
    assert np.isclose(np.ptp(coords, axis=0).max(), 1.0)


def test_mismatched_blocks_are_rejected():
    with pytest.raises(ValueError, match="blocks cover"):
        cluster_embeddings(np.zeros((3, 5)), BLOCKS)
