import numpy as np
from PIL import Image

from generation.upscale import upscale


def test_upscale_is_4x_sharper_than_bicubic_and_keeps_colours(astronaut, gradient_energy):
    crop = astronaut.crop((170, 60, 234, 124))  # 64 px of the face
    seen = []
    out = upscale(crop, tile=40, overlap=8, progress=lambda done, total: seen.append((done, total)))
    assert out.size == (256, 256) and out.mode == "RGB"
    assert seen[-1][0] == seen[-1][1] == 4  # 2x2 tiles, progress reported for each
    bicubic = crop.resize(out.size, Image.Resampling.BICUBIC)
    assert gradient_energy(out) > 1.1 * gradient_energy(bicubic)
    # Same colours as the source (not BGR-swapped, not rescaled): compare at 64 px.
    back = np.asarray(out.resize(crop.size, Image.Resampling.BOX), dtype=np.float32)
    assert np.abs(back - np.asarray(crop, dtype=np.float32)).mean() < 6.0
    # Tiles assemble into what one pass over the whole crop gives (no seams, no shift).
    whole = np.asarray(upscale(crop, tile=64), dtype=np.float32)
    assert np.abs(np.asarray(out, dtype=np.float32) - whole).mean() < 3.0


def test_upscale_keeps_alpha_and_supports_2x(astronaut):
    rgba = astronaut.crop((0, 0, 48, 32)).convert("RGBA")
    alpha = np.zeros((32, 48), dtype=np.uint8)
    alpha[:, 24:] = 255
    rgba.putalpha(Image.fromarray(alpha))
    out = upscale(rgba, scale=2)
    assert out.mode == "RGBA" and out.size == (96, 64)
    a = np.asarray(out.getchannel("A"))
    assert a[:, :40].max() < 10 and a[:, 56:].min() > 245
