"""DiffusionBackend on a tiny random SD pipeline with an IP-Adapter, 2 steps, end to end."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image, dtype=np.int16)


def test_it_returns_pil_images_of_the_asked_size(generate):
    images = generate(width=64, height=72, num_images=2)

    assert len(images) == 2
    for image in images:
        assert isinstance(image, Image.Image)
        assert image.mode == "RGB"
        assert image.size == (64, 72)
    # Two images of one call start from different noise.
    assert not np.array_equal(pixels(images[0]), pixels(images[1]))


def test_the_same_seed_gives_the_same_image(generate):
    first, again = generate(seed=123)[0], generate(seed=123)[0]
    other = generate(seed=124)[0]

    assert np.array_equal(pixels(first), pixels(again))
    assert np.abs(pixels(first) - pixels(other)).mean() > 1.0


def test_ip_scale_changes_the_output(generate):
    off = pixels(generate(ip_scale=0.0)[0])
    on = pixels(generate(ip_scale=1.0)[0])

    assert np.abs(off - on).mean() > 1.0


def test_at_scale_zero_the_centroids_have_no_effect(generate):
    # Strength 0 must mean "prompt only", the same as not passing a profile at all.
    with_profile = pixels(generate(ip_scale=0.0)[0])
    prompt_only = pixels(generate(ip_embeds=None, ip_scale=0.0)[0])

    assert np.abs(with_profile - prompt_only).max() <= 1


def test_different_profiles_give_different_images(generate, centroids):
    one = pixels(generate(ip_embeds=centroids, ip_scale=1.0)[0])
    other = pixels(generate(ip_embeds=-centroids[:1], ip_scale=1.0)[0])

    assert np.abs(one - other).mean() > 1.0


def test_a_single_centroid_may_be_one_dimensional(generate, centroids):
    flat = pixels(generate(ip_embeds=centroids[0], ip_scale=1.0)[0])
    row = pixels(generate(ip_embeds=centroids[:1], ip_scale=1.0)[0])

    assert np.array_equal(flat, row)


def test_it_rejects_embeddings_of_the_wrong_width(generate):
    wrong = np.ones((2, 31), dtype=np.float32)

    with pytest.raises(ValueError, match="ip_embeds have dim 31, the IP-Adapter takes 32"):
        generate(ip_embeds=wrong)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"width": 60}, "width must be a multiple of 8"),
        ({"height": 32}, "at least 64"),
        ({"steps": 0}, "steps must be a positive integer"),
        ({"ip_scale": -0.1}, "ip_scale must be in"),
        ({"num_images": 0}, "num_images must be in"),
        ({"seed": -1}, "seed must be a non-negative"),
        ({"ip_embeds": np.full((1, 32), np.nan, dtype=np.float32)}, "NaN"),
        ({"ip_embeds": np.zeros((0, 32), dtype=np.float32)}, r"must be \(n, 32\)"),
    ],
)
def test_it_rejects_bad_inputs_before_any_work(generate, overrides, message):
    with pytest.raises(ValueError, match=message):
        generate(**overrides)


def test_cfg_stacks_zero_negative_embeddings_first(backend, centroids):
    # diffusers' format: one tensor per IP-Adapter, (2 * batch, n_images, dim) under CFG,
    # the unconditional (zero) half first.
    (embeds,) = backend._ip_adapter_image_embeds(centroids)

    assert tuple(embeds.shape) == (2, 3, 32)
    assert embeds[0].abs().sum().item() == 0.0
    assert np.allclose(embeds[1].numpy(), centroids)


def test_without_guidance_there_is_no_negative_half(tiny_config, backend, centroids):
    # SD-Turbo runs at guidance 0: no CFG, so no unconditional embeddings either.
    from dataclasses import replace

    from generation.diffusion import DiffusionBackend

    turbo = DiffusionBackend(replace(tiny_config, guidance=0.0), pipeline=backend.pipeline)
    (embeds,) = turbo._ip_adapter_image_embeds(centroids)

    assert not turbo.do_classifier_free_guidance
    assert tuple(embeds.shape) == (1, 3, 32)
    image = turbo(
        prompt="x",
        negative_prompt="",
        ip_embeds=centroids,
        ip_scale=0.5,
        seed=1,
        steps=1,
        width=64,
        height=64,
    )[0]
    assert image.size == (64, 64)


def test_ip_embeds_need_an_ip_adapter(tiny_config):
    from dataclasses import replace

    from generation.diffusion import DiffusionBackend
    from testkit.tiny_diffusion import build_tiny_pipeline

    plain = DiffusionBackend(
        replace(tiny_config, ip_adapter_path=None),
        pipeline=build_tiny_pipeline(with_ip_adapter=False),
    )

    with pytest.raises(ValueError, match="no IP-Adapter is installed"):
        plain(
            prompt="x",
            negative_prompt="",
            ip_embeds=np.zeros((1, 32)),
            ip_scale=0.5,
            seed=1,
            steps=2,
            width=64,
            height=64,
        )
    # Prompt-only generation still works.
    image = plain(
        prompt="x",
        negative_prompt="",
        ip_embeds=None,
        ip_scale=0.0,
        seed=1,
        steps=2,
        width=64,
        height=64,
    )[0]
    assert image.size == (64, 64)


def test_ip_embed_norm_rescales_centroids(tiny_config, backend, centroids):
    from dataclasses import replace

    from generation.diffusion import DiffusionBackend

    scaled = DiffusionBackend(replace(tiny_config, ip_embed_norm=5.0), pipeline=backend.pipeline)
    (embeds,) = scaled._ip_adapter_image_embeds(centroids)

    assert np.allclose(np.linalg.norm(embeds[1].numpy(), axis=1), 5.0, atol=1e-4)


def test_strength_maps_to_ip_scale():
    from generation.diffusion import ip_scale_for_strength

    assert ip_scale_for_strength(0.0) == 0.0
    assert ip_scale_for_strength(0.5) == 0.5
    assert ip_scale_for_strength(1.0) == 1.0
    with pytest.raises(ValueError, match="strength must be in"):
        ip_scale_for_strength(1.5)


def test_config_rejects_fp16_on_cpu(tiny_weights):
    from generation.weights import DiffusionConfig

    with pytest.raises(ValueError, match="fp16 needs device 'cuda'"):
        DiffusionConfig(model_dir=tiny_weights["model_dir"], dtype="fp16")
    with pytest.raises(ValueError, match="family must be one of"):
        DiffusionConfig(model_dir=tiny_weights["model_dir"], family="sd3")  # type: ignore[arg-type]


def test_bf16_runs_on_cpu(tiny_config, centroids):
    from dataclasses import replace

    from generation.diffusion import DiffusionBackend

    bf16 = DiffusionBackend(replace(tiny_config, dtype="bf16"))
    image = bf16(
        prompt="x",
        negative_prompt="",
        ip_embeds=centroids,
        ip_scale=0.5,
        seed=1,
        steps=2,
        width=64,
        height=64,
    )[0]

    assert image.size == (64, 64)
    assert np.asarray(image).std() > 0
