"""Generation as a service: recipes, batches, fidelity, failures and redelivery."""

from __future__ import annotations

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from PIL import Image

from generation import rendering, services
from generation.models import Generation, Output


@pytest.fixture(scope="module")
def profile(module_profile):
    """The two-look profile, built once for this module (tests/conftest.py)."""
    return module_profile


def _pixels(output: Output) -> np.ndarray:
    with output.file.open("rb") as fh:
        return np.asarray(Image.open(fh).convert("RGB"), dtype=np.int16)


def test_a_batch_renders_every_image_with_a_fidelity_score(make_generation, content):
    generation = make_generation(count=3)
    done = rendering.generation_run(generation_id=generation.pk)
    assert done.status == "done", done.error
    outputs = list(done.outputs.all())
    assert [o.index for o in outputs] == [0, 1, 2]
    for o in outputs:
        assert (o.width, o.height) == (content.width, content.height)  # the content's resolution
        assert o.fidelity is not None and o.content_fidelity is not None


def test_taste_moves_the_image_toward_the_profile(make_generation, profile):
    # Only the monochrome sub-style, at full strength: the output loses its colour.
    mono = next(
        i
        for i, c in enumerate(profile.data["clusters"])
        if "monochrome" in c["label"] or "black" in c["label"]
    )
    generation = make_generation(
        ingredients=[services.IngredientSpec(profile, mono, 1.0)], count=1, strength=1.0
    )
    output = rendering.generation_run(generation_id=generation.pk).outputs.get()
    rgb = _pixels(output)
    spread = np.abs(rgb - rgb.mean(axis=2, keepdims=True)).mean()
    assert spread < 12  # nearly grey
    assert output.fidelity > output.content_fidelity


def test_same_recipe_and_seed_give_the_same_images(make_generation, alice):
    a = rendering.generation_run(generation_id=make_generation(cohesion=0.3, seed=11).pk)
    b = rendering.generation_run(
        generation_id=services.generation_rerun(generation=a, user=alice).pk
    )
    for x, y in zip(a.outputs.all(), b.outputs.all(), strict=True):
        assert np.abs(_pixels(x) - _pixels(y)).max() <= 1


def test_a_cohesive_batch_on_one_picture_makes_no_identical_copies(make_generation):
    cohesive = make_generation(cohesion=1.0, count=4)
    assert cohesive.count == 1  # one look, one picture: a second image would be a copy


def test_diverse_batch_differs_from_nearly_cohesive(make_generation):
    cohesive = rendering.generation_run(generation_id=make_generation(cohesion=0.95, count=2).pk)
    diverse = rendering.generation_run(generation_id=make_generation(cohesion=0.0, count=2).pk)
    c0, c1 = (_pixels(o) for o in cohesive.outputs.all())
    d0, d1 = (_pixels(o) for o in diverse.outputs.all())
    assert np.abs(d0 - d1).mean() > 5.0  # spread across the sub-styles
    assert np.abs(d0 - d1).mean() > 2 * np.abs(c0 - c1).mean()


def test_strength_sets_how_far_the_taste_goes(make_generation, content):
    runs = {
        s: rendering.generation_run(
            generation_id=make_generation(strength=s, count=1).pk
        ).outputs.get()
        for s in (0.0, 0.5, 1.0)
    }
    assert runs[0.0].fidelity < runs[0.5].fidelity < runs[1.0].fidelity
    with content.display.open("rb") as fh:
        original = np.asarray(Image.open(fh).convert("RGB"), dtype=np.int16)
    distance = {s: np.abs(_pixels(o) - original).mean() for s, o in runs.items()}
    assert distance[0.0] < distance[1.0]


@pytest.mark.parametrize(
    ("recipe", "message"),
    [
        ({"count": 0}, "1 to 16"),
        ({"count": 17}, "1 to 16"),
        ({"strength": 1.5}, "Strength"),
        ({"cohesion": -0.1}, "Cohesion"),
        ({"contents": []}, "at least one image"),
        ({"ingredients": []}, "at least one taste profile"),
        ({"backend": "diffusion"}, "not installed"),
        ({"backend": "teleport"}, "Unknown backend"),
    ],
)
def test_bad_recipes_are_refused_and_nothing_is_saved(make_generation, recipe, message):
    with pytest.raises(ValidationError, match=message):
        make_generation(**recipe)
    assert not Generation.objects.exists()


def test_zero_weights_are_refused(make_generation, profile):
    with pytest.raises(ValidationError, match="weight above zero"):
        make_generation(ingredients=[services.IngredientSpec(profile, None, 0.0)])


def test_a_bad_content_upload_is_refused(make_generation):
    with pytest.raises(ValidationError, match="Not an image"):
        make_generation(contents=[services.ContentSpec("notes.jpg", b"not a picture")])
    assert not Generation.objects.exists()


def test_one_failed_image_says_why_and_the_others_land(make_generation):
    generation = make_generation(count=3)

    class Flaky(rendering._Renderer):
        def render(self, index):
            if index == 1:
                raise RuntimeError("out of memory on this image")
            return super().render(index)

    done = rendering.generation_run(generation_id=generation.pk, renderer_factory=Flaky)
    assert done.status == "partial"
    outputs = {o.index: o for o in done.outputs.all()}
    assert outputs[0].ok and outputs[2].ok
    assert "out of memory" in outputs[1].error and not outputs[1].file


def test_a_killed_worker_leaves_no_duplicates_after_redelivery(make_generation):
    generation = make_generation(count=3)

    class Killed(rendering._Renderer):
        def render(self, index):
            if index == 2:
                raise SystemExit("SIGKILL")  # nothing in the service catches this
            return super().render(index)

    with pytest.raises(SystemExit):
        rendering.generation_run(generation_id=generation.pk, renderer_factory=Killed)
    assert Output.objects.filter(generation=generation).count() == 2
    first_files = {o.index: o.file.name for o in generation.outputs.all()}
    done = rendering.generation_run(generation_id=generation.pk)  # the redelivered task
    assert done.status == "done"
    outputs = list(done.outputs.all())
    assert [o.index for o in outputs] == [0, 1, 2]
    assert {o.index: o.file.name for o in outputs if o.index < 2} == first_files


def test_finished_batch_is_not_rendered_again(make_generation):
    generation = rendering.generation_run(generation_id=make_generation(count=1).pk)

    class Boom(rendering._Renderer):
        def render(self, index):
            raise AssertionError("rendered twice")

    again = rendering.generation_run(generation_id=generation.pk, renderer_factory=Boom)
    assert again.status == "done"


def test_blending_two_profiles_weights_their_sub_styles(profile):
    clusters = services.taste_clusters(
        [services.IngredientSpec(profile, 0, 3.0), services.IngredientSpec(profile, 1, 1.0)]
    )
    assert [w for _, w in clusters] == [3.0, 1.0]
    whole = services.taste_clusters([services.IngredientSpec(profile, None, 2.0)])
    assert pytest.approx(sum(w for _, w in whole)) == 2.0


@pytest.mark.slow  # the 4x network: make test runs it, make test-fast does not
def test_upscale_makes_the_image_four_times_larger(make_generation, alice, profile):
    small = Image.new("RGB", (40, 30))
    small.paste(Image.open(profile.board.images.first().thumbnail.path).resize((40, 30)))
    import io

    buf = io.BytesIO()
    small.save(buf, "PNG")
    generation = services.generation_create(
        team=profile.board.team, user=alice, ingredients=[], backend="upscale",
        contents=[services.ContentSpec("small.png", buf.getvalue())],
    )  # fmt: skip
    output = rendering.generation_run(generation_id=generation.pk).outputs.get()
    assert (output.width, output.height) == (160, 120)


def test_prompts_carry_keywords_and_avoids(profile):
    positive, negative = services.recipe_prompts(
        [services.IngredientSpec(profile, None, 1.0)], "a lighthouse at dusk", "text"
    )
    assert positive.startswith("a lighthouse at dusk, ")
    assert profile.data["keywords"][0]["term"] in positive
    assert negative.startswith("text")
    for avoid in profile.data["avoids"]:
        assert avoid["term"] in negative
