"""The taste card as a picture to drop into a deck: PNG (and a one-page PDF of it).

Drawn with Pillow from the profile's typed document and the representatives' served
thumbnails: a mosaic per sub-style on the left, the summary, palette, keywords and
avoids on the right. Pillow's bundled font (load_default with a size) is used so the
card looks the same on every server, with no system fonts to install.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from functools import cache

from PIL import Image, ImageDraw, ImageFont

from .document import TasteProfileData

WIDTH, HEIGHT = 1600, 1000
MARGIN = 48
BG = (251, 250, 248)
INK = (29, 29, 27)
MUTED = (95, 92, 86)
CHIP = (230, 238, 232)
CHIP_INK = (36, 74, 64)
AVOID = (244, 230, 228)
AVOID_INK = (124, 38, 33)
SUB_STYLE_COLOURS = ["#2f5d50", "#c2571a", "#3b6fb6", "#a23b72", "#8a7a1f", "#5b4a9e"]

# key -> a decoded image, or None when it is no longer on the board.
ImageLoader = Callable[[str], Image.Image | None]


@cache
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if draw.textlength(candidate, font=font) <= width or not line:
            line = candidate
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines


def _cover(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Scale and centre-crop to fill `size` (CSS object-fit: cover)."""
    w, h = size
    scale = max(w / image.width, h / image.height)
    resized = image.convert("RGB").resize(
        (max(w, round(image.width * scale)), max(h, round(image.height * scale))),
        Image.Resampling.LANCZOS,
    )
    left, top = (resized.width - w) // 2, (resized.height - h) // 2
    return resized.crop((left, top, left + w, top + h))


def _rounded(canvas: Image.Image, tile: Image.Image, xy: tuple[int, int], radius: int = 10):
    mask = Image.new("L", tile.size, 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, *tile.size), radius, fill=255)
    canvas.paste(tile, xy, mask)


def _mosaic(canvas, images: Sequence[Image.Image], box: tuple[int, int, int, int]) -> None:
    """One large image and up to two small ones beside it, like the page's card."""
    x0, y0, x1, y1 = box
    draw = ImageDraw.Draw(canvas)
    if not images:
        draw.rounded_rectangle(box, 10, fill=(234, 232, 228))
        return
    gap = 6
    if len(images) == 1:
        _rounded(canvas, _cover(images[0], (x1 - x0, y1 - y0)), (x0, y0))
        return
    big_w = round((x1 - x0 - gap) * 2 / 3)
    _rounded(canvas, _cover(images[0], (big_w, y1 - y0)), (x0, y0))
    small = images[1:3]
    h = (y1 - y0 - gap * (len(small) - 1)) // len(small)
    for i, image in enumerate(small):
        _rounded(
            canvas,
            _cover(image, (x1 - x0 - big_w - gap, h)),
            (x0 + big_w + gap, y0 + i * (h + gap)),
        )


def _chips(draw, terms: Sequence[str], x: int, y: int, right: int, fill, ink, bottom: int) -> int:
    font = _font(20)
    cx = x
    for term in terms:
        w = int(draw.textlength(term, font=font)) + 24
        if cx + w > right:
            cx, y = x, y + 38
        if y + 32 > bottom:
            break
        draw.rounded_rectangle((cx, y, cx + w, y + 30), 15, fill=fill)
        draw.text((cx + 12, y + 4), term, font=font, fill=ink)
        cx += w + 8
    return y + 38


def render_card(
    doc: TasteProfileData, *, title: str, subtitle: str, load: ImageLoader
) -> Image.Image:
    canvas = Image.new("RGB", (WIDTH, HEIGHT), BG)
    draw = ImageDraw.Draw(canvas)
    split = round(WIDTH * 0.58)

    # 1. Left: a mosaic per sub-style (up to four), largest share first.
    clusters = sorted(doc.clusters, key=lambda c: -c.weight)[:4]
    cols = 1 if len(clusters) <= 1 else 2
    rows = max(1, (len(clusters) + cols - 1) // cols)
    cell_w = (split - MARGIN * 2 - (cols - 1) * 20) // cols
    cell_h = (HEIGHT - MARGIN * 2 - (rows - 1) * 20) // rows
    for i, cluster in enumerate(clusters):
        x = MARGIN + (i % cols) * (cell_w + 20)
        y = MARGIN + (i // cols) * (cell_h + 20)
        images = [im for im in (load(k) for k in cluster.representatives[:3]) if im is not None]
        _mosaic(canvas, images, (x, y, x + cell_w, y + cell_h - 40))
        colour = SUB_STYLE_COLOURS[cluster.index % len(SUB_STYLE_COLOURS)]
        draw.ellipse((x, y + cell_h - 28, x + 14, y + cell_h - 14), fill=colour)
        label = f"{cluster.label[:48]}  ·  {round(cluster.weight * 100)}%"
        draw.text((x + 22, y + cell_h - 34), label, font=_font(22), fill=INK)

    # 2. Right: title, summary, palette, keywords, avoids.
    x, right = split + 24, WIDTH - MARGIN
    y = MARGIN
    for line in _wrap(draw, title, _font(40), right - x)[:2]:
        draw.text((x, y), line, font=_font(40), fill=INK)
        y += 50
    draw.text((x, y), subtitle, font=_font(20), fill=MUTED)
    y += 44
    for line in _wrap(draw, doc.summary, _font(21), right - x)[:7]:
        draw.text((x, y), line, font=_font(21), fill=INK)
        y += 30
    y += 18

    palette = doc.palette[:8]
    total = sum(c.share for c in palette) or 1.0
    px = x
    for colour in palette:
        w = round((right - x) * colour.share / total)
        draw.rectangle((px, y, min(right, px + w), y + 56), fill=colour.hex)
        px += w
    y += 70
    font = _font(18)
    for i, colour in enumerate(palette):
        cx = x + (i % 2) * ((right - x) // 2)
        cy = y + (i // 2) * 28
        draw.rounded_rectangle(
            (cx, cy + 2, cx + 18, cy + 20), 4, fill=colour.hex, outline=(0, 0, 0)
        )
        draw.text((cx + 26, cy), f"{colour.name}  {colour.hex}", font=font, fill=INK)
    y += ((len(palette) + 1) // 2) * 28 + 20

    keywords = [k.term for k in sorted(doc.keywords, key=lambda k: -k.score)][:14]
    if keywords:
        draw.text((x, y), "Keywords", font=_font(18), fill=MUTED)
        y = _chips(draw, keywords, x, y + 26, right, CHIP, CHIP_INK, HEIGHT - MARGIN - 90)
    avoids = [a.term for a in doc.avoids][:8]
    if avoids:
        draw.text((x, y + 4), "Avoids", font=_font(18), fill=MUTED)
        _chips(draw, avoids, x, y + 30, right, AVOID, AVOID_INK, HEIGHT - MARGIN)
    draw.text((x, HEIGHT - 34), "Tastebase taste card", font=_font(16), fill=MUTED)
    return canvas


def card_bytes(image: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    if fmt == "pdf":
        image.save(buf, "PDF", resolution=150.0)
    else:
        image.save(buf, "PNG", optimize=True)
    return buf.getvalue()
