"""The board as a designer uses it, in a real browser: the lightbox, reorder by keyboard,
remove with undo, paste from the clipboard, add by URL (from a server on this machine)
and the board as a ZIP."""

from __future__ import annotations

import http.server
import io
import threading
import zipfile
from pathlib import Path

import pytest

from moodboards import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REAL = Path(__file__).resolve().parents[1] / "data" / "real"


@pytest.fixture
def photos(board, alice):
    """Four real photographs on the board, thumbnails made inline (eager tasks)."""
    paths = sorted((REAL / "photo").glob("*.jpg"))[:4]
    ids = []
    for path in paths:
        result = services.board_add_image(
            board=board, user=alice, name=path.name, data=path.read_bytes()
        )
        ids.append(result.image_id)
    return ids


@pytest.fixture
def large_photos(board, alice):
    """The same real photographs enlarged to 1920 px: big enough to zoom into at 1440 px."""
    from PIL import Image

    ids = []
    for path in sorted((REAL / "photo").glob("*.jpg"))[:4]:
        image = Image.open(path).convert("RGB")
        scale = 1920 / max(image.size)
        image = image.resize(
            (round(image.width * scale), round(image.height * scale)), Image.LANCZOS
        )
        out = io.BytesIO()
        image.save(out, "JPEG", quality=90)
        result = services.board_add_image(
            board=board, user=alice, name=path.name, data=out.getvalue()
        )
        ids.append(result.image_id)
    return ids


def _order(board) -> list[int]:
    return list(board.images.order_by("position", "id").values_list("pk", flat=True))


def _open_board(new_page, ui, live_server, board, user="bob", viewport=None):
    page = new_page(viewport or ui.DESKTOP)
    ui.log_in(page, live_server, user)
    page.goto(live_server.url + board.get_absolute_url())
    page.wait_for_function(
        "Array.from(document.querySelectorAll('#grid .tile img')).every(i => i.complete && i.naturalWidth > 0)"
    )
    return page


# PhotoSwipe binds its keyboard and gesture handlers only when the opening fade has ended,
# at which point it shows the neighbouring slides; a key pressed earlier is lost (CI's busy
# machine made that race visible). Wait for those slides before pressing or swiping.
LIGHTBOX_READY = (
    "(() => { const items = document.querySelectorAll('.pswp__item');"
    " return items.length === 3 && Array.from(items).every(i => i.style.display !== 'none'); })()"
)


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_lightbox_arrows_zoom_caption_and_close(
    new_page, ui, live_server, board, large_photos, size
):
    viewport = ui.PHONE if size == "phone" else ui.DESKTOP
    page = _open_board(new_page, ui, live_server, board, user="carol", viewport=viewport)
    names = [board.images.get(pk=pk).original_name for pk in _order(board)]

    page.locator("#grid .tile-open").first.click()
    page.wait_for_selector(".pswp--open")
    page.wait_for_function(LIGHTBOX_READY)
    caption = page.locator(".pswp__custom-caption")
    page.wait_for_function("document.querySelector('.pswp__custom-caption').textContent.length > 0")
    assert names[0] in caption.inner_text()
    assert "1 / 4" in page.inner_text(".pswp__counter")
    ui.screenshot(page, f"lightbox-{size}")

    page.keyboard.press("ArrowRight")
    page.wait_for_function("document.querySelector('.pswp__counter').textContent.includes('2 / 4')")
    assert names[1] in caption.inner_text()
    page.keyboard.press("ArrowLeft")
    page.wait_for_function("document.querySelector('.pswp__counter').textContent.includes('1 / 4')")

    # The full-size copy is what is shown, and "z" zooms into it.
    # PhotoSwipe shows the thumbnail as a placeholder until the full copy has loaded (on a
    # phone that takes a moment), so wait for the real slide image, not the placeholder.
    full = ".pswp__item img.pswp__img:not(.pswp__img--placeholder)"
    page.wait_for_function(
        f"Array.from(document.querySelectorAll('{full}')).some(i => i.src.endsWith('/display/'))"
    )
    src = page.locator(full).first.get_attribute("src")
    assert src and src.endswith("/display/")
    page.keyboard.press("z")
    page.wait_for_selector(".pswp--zoomed-in")
    page.keyboard.press("z")
    page.wait_for_function("!document.querySelector('.pswp--zoomed-in')")

    page.keyboard.press("Escape")
    page.wait_for_function("!document.querySelector('.pswp')")


def test_lightbox_swipes_on_a_touch_screen(new_page, ui, live_server, board, photos):
    page = new_page(ui.PHONE, has_touch=True, is_mobile=True)
    ui.log_in(page, live_server, "carol")
    page.goto(live_server.url + board.get_absolute_url())
    page.locator("#grid .tile-open").first.tap()
    page.wait_for_selector(".pswp--open")
    page.wait_for_function(LIGHTBOX_READY)
    # A swipe to the left, as the touch screen reports a finger.
    cdp = page.context.new_cdp_session(page)
    cdp.send(
        "Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": 330, "y": 420}]}
    )
    for x in range(310, 30, -20):
        cdp.send(
            "Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": 420}]}
        )
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    page.wait_for_function("document.querySelector('.pswp__counter').textContent.includes('2 / 4')")


def test_keyboard_reorder_is_saved(new_page, ui, live_server, board, photos):
    page = _open_board(new_page, ui, live_server, board)
    before = _order(board)
    first = page.locator(f'.tile[data-id="{before[0]}"] .tile-move')
    first.focus()
    page.keyboard.press("Enter")  # pick it up
    assert first.get_attribute("aria-pressed") == "true"
    page.wait_for_function(
        "document.getElementById('reorder-status').textContent.includes('picked up')"
    )
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")  # drop it: saved
    page.wait_for_function("document.getElementById('grid').dataset.saved")
    assert _order(board) == [before[1], before[2], before[0], before[3]]
    page.wait_for_function(
        "document.getElementById('reorder-status').textContent.includes('position 3 of 4')"
    )

    # Escape puts a picked-up image back where it was, and saves nothing.
    moved = page.locator(f'.tile[data-id="{before[3]}"] .tile-move')
    moved.focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Home")
    page.keyboard.press("Escape")
    ids = page.eval_on_selector_all("#grid .tile", "ts => ts.map(t => Number(t.dataset.id))")
    assert ids == _order(board) == [before[1], before[2], before[0], before[3]]


def test_reorder_by_dragging_with_the_mouse(new_page, ui, live_server, board, photos):
    page = _open_board(new_page, ui, live_server, board)
    before = _order(board)
    source = page.locator(f'.tile[data-id="{before[3]}"]')
    target = page.locator(f'.tile[data-id="{before[0]}"]')
    source.drag_to(target)
    page.wait_for_function("document.getElementById('grid').dataset.saved")
    assert _order(board)[0] == before[3]


def test_remove_can_be_undone_then_happens(new_page, ui, live_server, board, photos):
    page = _open_board(new_page, ui, live_server, board)
    victim = _order(board)[1]
    tile = page.locator(f'.tile[data-id="{victim}"]')
    tile.hover()
    tile.locator(".tile-remove button").click()
    assert tile.is_hidden()
    assert "Removed" in page.inner_text("#undo-toast")
    page.click("#undo-button")
    assert tile.is_visible()
    page.wait_for_timeout(6500)  # past the undo window: nothing was sent
    assert board.images.filter(pk=victim).exists()

    tile.hover()
    tile.locator(".tile-remove button").click()
    page.wait_for_function(
        f"!document.querySelector('.tile[data-id=\"{victim}\"]')", timeout=15_000
    )
    assert not board.images.filter(pk=victim).exists()
    assert board.images.count() == 3


def test_remove_controls_show_on_touch_screens(new_page, ui, live_server, board, photos):
    page = new_page(ui.PHONE, has_touch=True, is_mobile=True)
    ui.log_in(page, live_server, "bob")
    page.goto(live_server.url + board.get_absolute_url())
    opacity = page.eval_on_selector(".tile-tools", "el => getComputedStyle(el).opacity")
    assert opacity == "1"  # visible without hover, not an invisible tap target


PASTE = """
async (b64) => {
  const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
  const dt = new DataTransfer();
  dt.items.add(new File([bytes], "image.png", { type: "image/png" }));
  document.body.dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
}
"""


def test_paste_an_image_from_the_clipboard(new_page, ui, live_server, board, photos):
    import base64

    page = _open_board(new_page, ui, live_server, board)
    png = (REAL / "pixel_art" / "v-shop.png").read_bytes()
    page.evaluate(PASTE, base64.b64encode(png).decode())
    page.wait_for_function("document.querySelectorAll('#upload-list .result.added').length === 1")
    assert page.inner_text("#upload-list .name").startswith("pasted-")
    page.wait_for_function("document.querySelectorAll('#grid .tile').length === 5")
    assert board.images.count() == 5


@pytest.fixture
def image_server():
    """An HTTP server on 127.0.0.1 serving one real photograph at /photo.jpg."""
    body = (REAL / "photograph" / "t-loc2.jpg").read_bytes()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path != "/photo.jpg":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_add_by_url_from_an_allowed_local_server(
    new_page, ui, live_server, board, photos, image_server, settings
):
    # The default refuses loopback addresses; this test's own server is on one.
    settings.TASTEBASE_URL_IMPORT_ALLOW_PRIVATE = True
    page = _open_board(new_page, ui, live_server, board)
    page.fill("#import-url", f"{image_server}/photo.jpg")
    page.click("#url-form button[type=submit]")
    page.wait_for_function("document.querySelectorAll('#upload-list .result.added').length === 1")
    page.wait_for_function("document.querySelectorAll('#grid .tile img').length === 5")
    assert board.images.filter(original_name="photo.jpg").exists()

    page.fill("#import-url", f"{image_server}/missing.jpg")
    page.click("#url-form button[type=submit]")
    page.wait_for_function(
        "document.querySelectorAll('#upload-list .result.rejected').length === 1"
    )
    assert "404" in page.inner_text("#upload-list .result.rejected")


def test_add_by_url_refuses_a_loopback_address_by_default(
    new_page, ui, live_server, board, photos, image_server
):
    page = _open_board(new_page, ui, live_server, board)
    page.fill("#import-url", f"{image_server}/photo.jpg")
    page.click("#url-form button[type=submit]")
    page.wait_for_function(
        "document.querySelectorAll('#upload-list .result.rejected').length === 1"
    )
    assert "loopback" in page.inner_text("#upload-list .result.rejected")
    assert board.images.count() == 4


def test_download_the_board_as_a_zip(new_page, ui, live_server, board, photos):
    page = _open_board(new_page, ui, live_server, board, user="carol")
    with page.expect_download() as info:
        page.click("#download-zip")
    download = info.value
    assert download.suggested_filename == "Autumn-campaign.zip"
    archive = zipfile.ZipFile(io.BytesIO(Path(download.path()).read_bytes()))
    names = archive.namelist()
    expected = [board.images.get(pk=pk).original_name.rsplit(".", 1)[0] for pk in _order(board)]
    assert [n.split("-", 1)[1].rsplit(".", 1)[0] for n in names[:-1]] == expected
    assert names[-1] == "board.txt"
    assert archive.read(names[0])[:2] == b"\xff\xd8"  # the served JPEGs
