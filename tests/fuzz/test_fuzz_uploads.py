"""Hostile uploads through the upload service, ZIPs included.

Property: every file (or ZIP member) gets a result, added / duplicate / rejected with a
message, and the database and the media folder gain exactly the added images: no
partial rows, no stray files, originals stored byte for byte. The caps (file size, ZIP
members, ZIP total, ZIP ratio) hold whatever the content.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from moodboards import services
from moodboards.models import BoardImage
from tests.fuzz import strategies as fz


@fz.fuzz_settings(100)
@given(files=fz.upload_batches())
def test_fuzzed_batches_add_exactly_what_they_report(board, bob, media_root, files):
    with fz.hang_guard():
        fz.check_upload(board=board, user=bob, files=files, media_root=media_root)


@fz.fuzz_settings(40)
@given(names=st.lists(fz.NAME_TEXT, min_size=1, max_size=4))
def test_any_file_name_is_kept_as_a_label_never_as_a_path(board, bob, media_root, names):
    files = [(name, fz.seeds()["jpeg"]) for name in names]
    statuses = fz.check_upload(board=board, user=bob, files=files, media_root=media_root)
    assert set(statuses) <= {"added", "duplicate"}
    for image in BoardImage.objects.filter(board=board):
        assert image.original.name.startswith(f"originals/{board.pk}/")
        assert ".." not in image.original.name


def _zip(members: list[tuple[str, bytes]], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return out.getvalue()


@fz.fuzz_settings(40)
@given(
    count=st.integers(1, 9),
    cap=st.integers(1, 6),
    seed_names=st.lists(st.sampled_from(fz.SEED_NAMES), min_size=9, max_size=9),
)
def test_the_zip_member_cap_holds(board, bob, media_root, settings, count, cap, seed_names):
    settings.TASTEBASE_MAX_ZIP_MEMBERS = cap
    members = [(f"m{i}.img", fz.seeds()[seed_names[i]]) for i in range(count)]
    before = BoardImage.objects.count()
    results = services.board_add_files(
        board=board, user=bob, files=[("many.zip", io.BytesIO(_zip(members)), None)]
    )
    if count > cap:
        [only] = results
        assert only.status == "rejected" and f"the limit is {cap}" in only.message, only
        assert BoardImage.objects.count() == before
    else:
        assert len(results) == count
        assert "limit is" not in " ".join(r.message for r in results)


@fz.fuzz_settings(40)
@given(
    names=st.lists(st.sampled_from(fz.SEED_NAMES), min_size=1, max_size=5, unique=True),
    fraction=st.floats(0.0, 2.0),
    declared=st.booleans(),
)
def test_the_zip_total_cap_holds(board, bob, media_root, settings, names, fraction, declared):
    members = [(f"{name}.img", fz.seeds()[name]) for name in names]
    total = sum(len(data) for _, data in members)
    cap = int(total * fraction)
    settings.TASTEBASE_MAX_ZIP_TOTAL_BYTES = cap
    archive = _zip(members, zipfile.ZIP_STORED)
    before = BoardImage.objects.count()
    results = services.board_add_files(
        board=board,
        user=bob,
        files=[("big.zip", io.BytesIO(archive), len(archive) if declared else None)],
    )
    # A declared size is checked first: the archive itself (headers and all) over the cap.
    if total > cap or (declared and len(archive) > cap):
        [only] = results
        assert only.status == "rejected" and "limit" in only.message, only
        assert BoardImage.objects.count() == before
    else:
        assert len(results) == len(members)
        assert all("limit" not in r.message for r in results), results


@fz.fuzz_settings(40)
@given(
    size=st.integers(1_000, 400_000),
    ratio=st.integers(2, 300),
    byte=st.binary(min_size=1, max_size=1),
)
def test_the_zip_ratio_cap_holds(board, bob, settings, size, ratio, byte):
    settings.TASTEBASE_MAX_ZIP_RATIO = ratio
    archive = _zip([("real.jpg", fz.seeds()["jpeg"]), ("flat.jpg", byte * size)])
    with zipfile.ZipFile(io.BytesIO(archive)) as check:
        worst = max(m.file_size / m.compress_size for m in check.infolist() if m.compress_size)
    before = BoardImage.objects.count()
    results = services.board_add_files(
        board=board, user=bob, files=[("bomb.zip", io.BytesIO(archive), len(archive))]
    )
    if worst > ratio:
        [only] = results
        assert only.status == "rejected" and "ZIP bomb" in only.message, only
        assert BoardImage.objects.count() == before
    else:
        assert {r.name for r in results} == {"bomb.zip › real.jpg", "bomb.zip › flat.jpg"}


@fz.fuzz_settings(60)
@given(
    data=fz.image_inputs(), cap=st.integers(0, 20_000), declared=st.booleans(), zipped=st.booleans()
)
def test_the_file_size_cap_holds_for_files_and_zip_members(
    board, bob, media_root, settings, data, cap, declared, zipped
):
    # `declared`: the request said the size (multipart does); otherwise the stream is
    # read with a cap. Inside a ZIP the header may lie, so the bytes read are capped too.
    settings.TASTEBASE_MAX_UPLOAD_BYTES = cap
    payload = _zip([("in.jpg", data)], zipfile.ZIP_STORED) if zipped else data
    name = "f.zip" if zipped else "f.jpg"
    results = services.board_add_files(
        board=board,
        user=bob,
        files=[(name, io.BytesIO(payload), len(payload) if declared else None)],
    )
    if len(data) > cap:
        assert [r.status for r in results] == ["rejected"], results
        assert "limit" in results[0].message
    for r in results:
        if r.status == "added":
            assert BoardImage.objects.get(pk=r.image_id).byte_size <= cap


# --- regressions found by the fuzzer ---------------------------------------------------------


def test_an_empty_zip_or_one_of_only_folders_gets_a_result(board, bob):
    # Was: no result at all, the upload silently vanished from the user's list.
    only_junk = _zip([("folder/", b""), ("__MACOSX/._a.jpg", b"x"), (".DS_Store", b"x")])
    empty = b"PK\x05\x06" + b"\x00" * 18
    for name, archive in (("empty.zip", empty), ("junk.zip", only_junk)):
        [result] = services.board_add_files(
            board=board, user=bob, files=[(name, io.BytesIO(archive), len(archive))]
        )
        assert result.name == name and result.status == "rejected"
        assert "holds no files" in result.message


@pytest.mark.parametrize("compression", [zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_a_zip_member_damaged_inside_its_compressed_stream_is_rejected(
    board, bob, media_root, compression
):
    # Was: zlib.error / lzma.LZMAError escaped the upload service (a 500 for the batch).
    archive = _zip([("a.jpg", bytes(range(256)) * 40)], compression)
    damaged_ones = []
    for offset in range(40, min(len(archive) - 60, 400), 3):
        damaged = bytearray(archive)
        damaged[offset] ^= 0xFF
        damaged_ones.append(bytes(damaged))
        [result] = services.board_add_files(
            board=board, user=bob, files=[("d.zip", io.BytesIO(damaged), len(damaged))]
        )
        assert result.status == "rejected" and result.message, result
    # One bad archive never stops the rest of the batch.
    files = [("d.zip", damaged_ones[len(damaged_ones) // 2]), ("ok.jpg", fz.seeds()["jpeg"])]
    statuses = fz.check_upload(board=board, user=bob, files=files, media_root=media_root)
    assert statuses == ["rejected", "added"]


def test_a_zip_claiming_a_future_zip_version_is_rejected_as_damaged(board, bob, media_root):
    # Was: NotImplementedError("zip file version 23.5") escaped the upload service.
    archive = bytearray(_zip([("a.jpg", fz.seeds()["jpeg"])]))
    central = archive.rfind(b"PK\x01\x02")
    archive[central + 6] = 235  # "version needed to extract"
    files = [("future.zip", bytes(archive)), ("ok.png", fz.seeds()["png"])]
    statuses = fz.check_upload(board=board, user=bob, files=files, media_root=media_root)
    assert statuses == ["rejected", "added"]
    [result] = services.board_add_files(
        board=board, user=bob, files=[("future.zip", io.BytesIO(bytes(archive)), None)]
    )
    assert "damaged" in result.message
