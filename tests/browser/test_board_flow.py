"""The main boards flow in a real browser, with a real worker making thumbnails."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from django.conf import settings

from moodboards.models import Board
from moodboards.samples import sample_jpeg

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

DROP_FILES = """
async ([selector, files]) => {
  const dt = new DataTransfer();
  for (const f of files) {
    const bytes = Uint8Array.from(atob(f.b64), c => c.charCodeAt(0));
    dt.items.add(new File([bytes], f.name, { type: "image/jpeg" }));
  }
  const zone = document.querySelector(selector);
  for (const type of ["dragenter", "dragover", "drop"]) {
    zone.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: dt }));
  }
}
"""


def _screenshot(page, name: str) -> None:
    out = Path(settings.VAR_DIR) / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out / f"{name}.png"), full_page=True)


def test_log_in_create_board_drop_images_and_share(
    page, browser, live_server, alice, celery_worker_process
):
    # Log in.
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "correct horse battery staple")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    # Create a board.
    page.fill("#id_title", "Night market")
    page.click("text=Create board")
    page.wait_for_selector("h1:has-text('Night market')")
    board = Board.objects.get(title="Night market")

    # Drop three images onto the board.
    files = [
        {"name": f"{n}.jpg", "b64": base64.b64encode(sample_jpeg(n)).decode()}
        for n in ("rocket", "astronaut", "coffee")
    ]
    page.evaluate(DROP_FILES, ["#dropzone", files])
    page.wait_for_function("document.querySelectorAll('#upload-list .result.added').length === 3")
    # Thumbnails come from the worker; the grid refreshes itself until they're there.
    page.wait_for_function(
        "Array.from(document.querySelectorAll('#grid .tile img')).filter(i => i.complete && i.naturalWidth > 0).length === 3",
        timeout=60_000,
    )
    assert board.images.count() == 3
    _screenshot(page, "board-with-three-images")

    # Share it read-only and open the link as an anonymous visitor.
    page.click("text=Create read-only link")
    link = page.input_value("#share-url")
    assert "/s/" in link
    assert page.locator("#access-list").inner_text().count("secret link") == 1
    anonymous = browser.new_context()
    try:
        shared = anonymous.new_page()
        shared.goto(link)
        shared.wait_for_function(
            "Array.from(document.querySelectorAll('.grid img')).filter(i => i.complete && i.naturalWidth > 0).length === 3"
        )
        assert "Night market" in shared.inner_text("h1")
        _screenshot(shared, "shared-board")
    finally:
        anonymous.close()


def test_file_picker_upload_shows_rejections(
    page, live_server, bob, board, celery_worker_process, tmp_path
):
    good = tmp_path / "rocket.jpg"
    good.write_bytes(sample_jpeg("rocket"))
    bad = tmp_path / "notes.jpg"
    bad.write_text("not a picture at all")
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "bob")
    page.fill("input[name=password]", "correct horse battery staple")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}{board.get_absolute_url()}")
    page.set_input_files("#file-input", [str(good), str(bad)])
    page.wait_for_function(
        "document.querySelectorAll('#upload-list .result.added, #upload-list .result.rejected').length === 2"
    )
    assert "Not an image" in page.inner_text("#upload-list .result.rejected")
    assert board.images.count() == 1
