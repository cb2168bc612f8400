import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from testkit.looks import make_board


@pytest.fixture
def image_dir(tmp_path):
    for b in make_board(["mono_contrast", "warm_film"], 6, seed=4):
        b.image.save(tmp_path / b.key.replace(".png", ".jpg"), quality=92)
    (tmp_path / "notes.txt").write_text("not an image")
    return tmp_path


def test_json_output_has_the_documented_keys(image_dir):
    out, err = StringIO(), StringIO()
    call_command("analyze_images", str(image_dir), "--json", stdout=out, stderr=err)
    data = json.loads(out.getvalue())
    assert {"clusters", "keywords", "avoids", "palette", "summary"} <= set(data)
    assert len(data["clusters"]) == 2
    files = {p.name for p in image_dir.glob("*.jpg")}
    for cluster in data["clusters"]:
        assert 0 < cluster["weight"] <= 1
        assert set(cluster["images"]) <= files
        assert all({"term", "facet", "score", "evidence"} <= set(k) for k in cluster["keywords"])
    for kw in data["keywords"]:
        assert {"term", "facet", "score", "evidence"} <= set(kw)
    for colour in data["palette"]:
        assert {"hex", "name", "share"} <= set(colour)
    assert isinstance(data["summary"], str) and data["summary"]
    assert "notes.txt" in err.getvalue()


def test_exif_orientation_is_applied(tmp_path):
    image = make_board(["pastel"], 1)[0].image
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° on display
    image.save(tmp_path / "rotated.jpg", exif=exif)
    from taste.management.commands.analyze_images import load_images

    ((_name, loaded),) = load_images(tmp_path)[0]
    assert loaded.size == (image.height, image.width)


def test_text_report_is_readable(image_dir):
    out = StringIO()
    call_command("analyze_images", str(image_dir), stdout=out, stderr=StringIO())
    text = out.getvalue()
    assert "Sub-style 1" in text and "Palette:" in text and "Avoid:" in text


def test_missing_directory_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="not a directory"):
        call_command("analyze_images", str(tmp_path / "nope"))


def test_a_folder_without_images_is_a_command_error(tmp_path):
    (tmp_path / "readme.md").write_text("# hi")
    with pytest.raises(CommandError, match="no readable images"):
        call_command("analyze_images", str(tmp_path), stderr=StringIO())


def test_an_uninstalled_encoder_is_a_command_error(image_dir, model_settings):
    model_settings("TASTEBASE_OPENCLIP_CHECKPOINT", None)
    with pytest.raises(CommandError, match="TASTEBASE_OPENCLIP_CHECKPOINT"):
        call_command("analyze_images", str(image_dir), "--encoder", "openclip:ViT-H-14")


def test_duplicate_files_are_counted_once_and_said(tmp_path):
    from io import StringIO

    from django.core.management import call_command

    from moodboards.samples import sample_jpeg

    for name in ("a.jpg", "b.jpg", "c.jpg"):
        (tmp_path / name).write_bytes(sample_jpeg("coffee"))
    out, err = StringIO(), StringIO()
    call_command("analyze_images", str(tmp_path), "--json", stdout=out, stderr=err)
    import json

    data = json.loads(out.getvalue())
    assert data["n_images"] == 1
    assert "b.jpg: the same file as a.jpg" in err.getvalue()
    assert data["summary"].startswith("A single reference")
