import numpy as np
import pytest

from taste.encoders import (
    DEFAULT_ENCODER_ID,
    OPENCLIP_CHECKPOINT_ENV,
    OpenClipConfig,
    OpenClipEncoder,
    get_encoder,
    list_encoders,
)
from taste.magenta import STYLE_DIM
from taste.profile import build_profile, embed_images
from testkit.looks import render


@pytest.fixture
def images():
    return [render(s, look, 2) for s in ("coffee", "china") for look in ("pastel", "cyanotype")]


def test_default_encoder_embeds_style_and_descriptors(images):
    encoder = get_encoder(DEFAULT_ENCODER_ID)
    x = encoder.embed(images)
    assert x.shape == (4, encoder.dim) and x.dtype == np.float32
    assert encoder.dim > STYLE_DIM
    # Cacheable per image: an image's embedding does not depend on its batch.
    assert np.allclose(encoder.embed(images[:1])[0], x[0], atol=1e-5)


def test_the_pipelined_encoder_matches_the_sequential_one(images):
    from taste.encoders import MagentaDescriptorEncoder

    pipelined = MagentaDescriptorEncoder(workers=2).embed(images)
    sequential = MagentaDescriptorEncoder(workers=1).embed(images)
    assert np.array_equal(pipelined, sequential)


def test_a_failing_image_raises_instead_of_hanging(images, monkeypatch):
    import taste.encoders as encoders

    real = encoders.compute_descriptors
    calls = []

    def flaky(image):
        calls.append(image)
        if len(calls) == 3:
            raise OSError("truncated file")
        return real(image)

    monkeypatch.setattr(encoders, "compute_descriptors", flaky)
    with pytest.raises(OSError, match="truncated"):
        encoders.MagentaDescriptorEncoder(workers=2).embed(images * 3)


def test_registry_says_what_is_missing(model_settings):
    model_settings(OPENCLIP_CHECKPOINT_ENV, None)
    statuses = {s.id.split(":")[0]: s for s in list_encoders()}
    assert statuses[DEFAULT_ENCODER_ID].installed
    clip = statuses["openclip"]
    assert not clip.installed
    assert OPENCLIP_CHECKPOINT_ENV in clip.message
    with pytest.raises(RuntimeError, match=OPENCLIP_CHECKPOINT_ENV):
        get_encoder("openclip:ViT-H-14")
    with pytest.raises(ValueError, match="unknown encoder"):
        get_encoder("nope")


def test_a_missing_checkpoint_file_is_explained(tmp_path):
    missing = tmp_path / "nothing.bin"
    enc = OpenClipEncoder(OpenClipConfig(model_name="ViT-H-14", checkpoint=str(missing)))
    assert not enc.installed
    assert str(missing) in enc.why_not_installed


@pytest.fixture(scope="module")
def tiny_clip():
    pytest.importorskip("open_clip")
    # ViT-S-32 from open_clip's bundled configs, random weights, 64 px input: the real
    # code path offline; two layers and a short text context keep it fast.
    return OpenClipEncoder(
        OpenClipConfig(
            model_name="ViT-S-32",
            force_image_size=64,
            force_context_length=16,
            random_init_layers=2,
        ),
        random_init=True,
    )


def test_openclip_embeddings_are_normalised_numpy(tiny_clip, images):
    x = tiny_clip.embed(images)
    assert isinstance(x, np.ndarray) and x.dtype == np.float32
    assert x.shape == (4, 384)
    assert np.allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)


def test_openclip_text_embeddings_are_cached(tiny_clip):
    a = tiny_clip.embed_text(["warm", "cool"])
    assert a.shape == (2, 384)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    assert tiny_clip.embed_text(["warm", "cool"]) is a
    assert tiny_clip.embed_text(["cool", "warm"]) is not a


def test_zero_shot_keywords_run_through_build_profile(tiny_clip, monkeypatch, images):
    import taste.encoders as encoders

    monkeypatch.setitem(encoders._openclip_instances, tiny_clip.config, tiny_clip)
    monkeypatch.setattr(encoders, "get_openclip_encoder", lambda config=None: tiny_clip)
    items, clip = embed_images([(f"{i}.png", im) for i, im in enumerate(images)], tiny_clip.id)
    assert clip is tiny_clip
    profile = build_profile(items, encoder_id=tiny_clip.id, clip=clip)
    clip_kw = [k for k in profile.keywords if k.source == "clip"]
    assert clip_kw, "zero-shot ranking should add CLIP-only terms"
    assert all(k.evidence[0].measurement == "clip_similarity" for k in clip_kw)
    assert all(0.0 <= k.score <= 1.0 for k in clip_kw)
    # Descriptor-licensed keywords stay licensed by measurements.
    assert any(k.source == "descriptors" for k in profile.keywords)
    assert profile.encoder_id == tiny_clip.id
