"""Image encoders behind one small interface, and the registry the UI lists.

An encoder turns PIL images into an (n, dim) float32 array. Embeddings are cached by
the app per (image sha256, encoder id), so an encoder's output for an image must be
a pure function of the pixels and the id: anything board-relative (centring, scaling)
happens later, in clustering.

Two encoders exist:

* ``magenta-style+descriptors-v4`` (default, always installed): the 100-d Magenta
  style vector (weights ship in a wheel) joined with the pixel descriptor vector, which
  since v3 also measures the medium (taste.medium) and teal-orange by hue, and since v4
  counts a grey image's grey levels as its colours. Embeddings cached under an older id
  are not mixed in: the cache is keyed by id, so they are re-made.
* ``openclip:<model>``: an OpenCLIP image tower loaded from a local checkpoint the
  operator installs; it also embeds the keyword vocabulary for zero-shot ranking.
"""

from __future__ import annotations

import hashlib
import importlib.util
import queue
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from .descriptors import DESCRIPTOR_DIM, Descriptors, compute_descriptors
from .magenta import PREDICT_SIZE, STYLE_DIM, SessionConfig, StylePredictor, center_square

DEFAULT_ENCODER_ID = "magenta-style+descriptors-v4"
OPENCLIP_CHECKPOINT_ENV = "TASTEBASE_OPENCLIP_CHECKPOINT"
OPENCLIP_MODEL_ENV = "TASTEBASE_OPENCLIP_MODEL"
OPENCLIP_DEFAULT_MODEL = "ViT-H-14"

# Typical per-dimension spread of raw Magenta style vectors between images of one look
# (measured on the bundled sample photographs in the six looks of testkit/looks.py).
# The vectors sit in a tight shell around a common mean, so clustering centres them
# on the board mean and divides by this constant; a fixed constant (not the board's
# own spread) keeps a coherent board from being stretched into fake sub-styles.
MAGENTA_WITHIN_LOOK_SCALE = 0.32
# Magenta vectors respond to subject matter as much as to the look, so their weight in
# the clustering space is fitted with the rest of the calibration on real boards
# (taste/data/calibration.json, "weights.magenta"); this is only the block's nominal one.
MAGENTA_CLUSTER_WEIGHT = 0.3
# Prepared predictor inputs (0.8 MB each) the helper thread may run ahead by.
PIPELINE_DEPTH = 4


@dataclass(frozen=True)
class Block:
    """A contiguous slice of an embedding and how clustering should read it.

    kind "magenta": raw style vector, scaled by a known within-look spread;
    kind "descriptors": a descriptor vector, mapped into the look space;
    kind "generic": unknown units (e.g. CLIP); clustering falls back to relative scaling.
    """

    name: str
    dim: int
    kind: str = "generic"
    weight: float = 1.0
    scale: float | None = None


class Encoder:
    """Interface: ``embed(images) -> (n, dim) float32``."""

    id: str = ""
    dim: int = 0
    label: str = ""
    installed: bool = True
    why_not_installed: str = ""
    blocks: tuple[Block, ...] = ()

    def embed(self, images: Sequence[Image.Image]) -> np.ndarray:
        raise NotImplementedError


class MagentaDescriptorEncoder(Encoder):
    """Magenta 100-d style vector + pixel descriptors (the embedded default).

    The ONNX session runs single-threaded: on this model one intra-op thread is faster
    than two (8 ms vs 12-16 ms per image on a 2-core CPU), and it leaves the other core
    free to compute descriptors for the same batch in parallel.
    """

    id = DEFAULT_ENCODER_ID
    label = "Magenta style + colour/tone descriptors (built in)"
    dim = STYLE_DIM + DESCRIPTOR_DIM
    blocks = (
        Block("magenta", STYLE_DIM, "magenta", MAGENTA_CLUSTER_WEIGHT, MAGENTA_WITHIN_LOOK_SCALE),
        Block("descriptors", DESCRIPTOR_DIM, "descriptors", 1.0),
    )

    def __init__(self, workers: int = 2) -> None:
        self._predictor: StylePredictor | None = None
        self._workers = max(1, workers)
        self._lock = threading.Lock()

    @property
    def predictor(self) -> StylePredictor:
        with self._lock:
            if self._predictor is None:
                self._predictor = StylePredictor(SessionConfig(intra_op_threads=1))
            return self._predictor

    def style_vectors(self, images: Sequence[Image.Image]) -> np.ndarray:
        if not images:
            return np.zeros((0, STYLE_DIM), np.float32)
        # One image at a time: the exported graph has a fixed batch of one anyway, and
        # stacking a whole board first costs ~0.8 MB per image of memory traffic.
        predictor = self.predictor
        return np.concatenate(
            [predictor.predict_array(center_square(im, PREDICT_SIZE)[None]) for im in images]
        )

    def embed_parts(self, images: Sequence[Image.Image]) -> tuple[np.ndarray, list[Descriptors]]:
        """(style vectors (n, 100), descriptors): both halves, computed concurrently.

        A pipeline over two cores: a helper thread prepares each image's predictor input
        (crop, resize) and then measures its descriptors, while this thread only runs
        the style predictor on inputs as they arrive. onnxruntime, PIL and numpy's large
        array loops release the GIL, so the two overlap; the predictor is the slower
        stage, so the session runs almost as fast as on pre-made inputs.
        """
        from threadpoolctl import threadpool_limits

        images = list(images)
        # Descriptor maths is on small arrays: BLAS/OpenMP worker pools only contend with
        # onnxruntime for the two cores.
        with threadpool_limits(limits=1):
            if self._workers == 1 or len(images) < 2:
                return self.style_vectors(images), [compute_descriptors(im) for im in images]
            return self._pipelined(images)

    def _pipelined(self, images: list[Image.Image]) -> tuple[np.ndarray, list[Descriptors]]:
        predictor = self.predictor
        inputs: queue.Queue[np.ndarray | BaseException] = queue.Queue(maxsize=PIPELINE_DEPTH)
        stop = threading.Event()

        def put(item: np.ndarray | BaseException) -> bool:
            while not stop.is_set():
                try:
                    inputs.put(item, timeout=0.1)
                    return True
                except queue.Full:
                    continue
            return False

        def prepare_and_describe() -> list[Descriptors]:
            descriptors = []
            try:
                for im in images:
                    if not put(center_square(im, PREDICT_SIZE)[None]):
                        break
                    descriptors.append(compute_descriptors(im))
            except BaseException as exc:  # hand it to the consumer, which re-raises it
                put(exc)
                raise
            return descriptors

        with ThreadPoolExecutor(max_workers=1) as pool:
            future = pool.submit(prepare_and_describe)
            styles = []
            try:
                for _ in images:
                    item = inputs.get()
                    if isinstance(item, BaseException):
                        break
                    styles.append(predictor.predict_array(item))
            finally:
                stop.set()  # unblocks the helper if this thread failed
            descriptors = future.result()  # re-raises the helper's exception
        return np.concatenate(styles), descriptors

    @staticmethod
    def join(styles: np.ndarray, descriptors: Sequence[Descriptors]) -> np.ndarray:
        desc = (
            np.stack([d.as_vector() for d in descriptors])
            if descriptors
            else np.zeros((0, DESCRIPTOR_DIM), np.float32)
        )
        return np.concatenate([styles.astype(np.float32), desc], axis=1)

    def embed(self, images: Sequence[Image.Image]) -> np.ndarray:
        styles, descriptors = self.embed_parts(images)
        return self.join(styles, descriptors)


@dataclass(frozen=True)
class OpenClipConfig:
    model_name: str = OPENCLIP_DEFAULT_MODEL
    checkpoint: str | None = None  # a local file; None only for random-weight tests
    device: str = "cpu"
    batch_size: int = 16
    force_image_size: int | None = None  # tests shrink the image tower's input
    force_context_length: int | None = None  # tests shorten the text context (random init)
    random_init_layers: int | None = None  # tests: fewer transformer layers (random init only)
    prompt: str = "an image with a {} look"  # template for zero-shot vocabulary terms

    @classmethod
    def from_settings(cls) -> OpenClipConfig:
        """What the operator configured: TASTEBASE_OPENCLIP_CHECKPOINT (and _MODEL), else
        the checkpoint `register_weights` recorded in the weights registry. Outside
        Django (benches, scripts) nothing is configured."""
        from django.conf import settings

        if not settings.configured:
            return cls()
        from config.weights_registry import read_registry

        checkpoint = settings.TASTEBASE_OPENCLIP_CHECKPOINT
        if not checkpoint:
            checkpoint = read_registry().get("open_clip", {}).get("checkpoint")
        return cls(
            model_name=settings.TASTEBASE_OPENCLIP_MODEL or OPENCLIP_DEFAULT_MODEL,
            checkpoint=checkpoint or None,
        )


class OpenClipEncoder(Encoder):
    """An OpenCLIP model loaded once; L2-normalised image and text embeddings as numpy.

    Installed only when a local checkpoint exists: this project never downloads weights
    at run time. ``random_init=True`` builds the architecture with random weights from
    open_clip's bundled config (tests use it to drive the real code path offline).
    """

    blocks: tuple[Block, ...] = ()

    def __init__(self, config: OpenClipConfig | None = None, *, random_init: bool = False):
        self.config = config or OpenClipConfig.from_settings()
        self.random_init = random_init
        self.id = f"openclip:{self.config.model_name}" + (":random" if random_init else "")
        self.label = f"OpenCLIP {self.config.model_name}"
        self._model: Any = None
        self._preprocess: Any = None
        self._tokenizer: Any = None
        self._text_cache: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        self.installed, self.why_not_installed = self._check_installed()
        self.dim = 0

    def _check_installed(self) -> tuple[bool, str]:
        # Look the packages up without importing them: importing torch takes seconds and
        # hundreds of MB, and every web process asks this for the board page's panel.
        if (
            importlib.util.find_spec("open_clip") is None
            or importlib.util.find_spec("torch") is None
        ):
            return False, (
                "The open_clip_torch and torch packages are not installed. Install the "
                "project's pinned torch, torchvision and open_clip_torch versions."
            )
        if self.random_init:
            return True, ""
        ckpt = self.config.checkpoint
        if not ckpt:
            return False, (
                f"No OpenCLIP checkpoint is configured. Copy the {self.config.model_name} "
                f"weights file onto this server and set {OPENCLIP_CHECKPOINT_ENV} to its "
                f"path (and {OPENCLIP_MODEL_ENV} if it is not {OPENCLIP_DEFAULT_MODEL})."
            )
        if not Path(ckpt).is_file():
            return False, (
                f"{OPENCLIP_CHECKPOINT_ENV} points to {ckpt}, which does not exist or is "
                "not a file. Check the path and the file's permissions."
            )
        return True, ""

    def _load(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            if not self.installed:
                raise RuntimeError(self.why_not_installed)
            import open_clip
            import torch

            overrides: dict[str, Any] = {}
            if self.random_init:
                torch.manual_seed(0)  # the same random model in every test run
                layers = self.config.random_init_layers
                base = open_clip.get_model_config(self.config.model_name) or {}
                if layers and "vision_cfg" in base and "text_cfg" in base:
                    # Same architecture family, shallower: the full code path, faster.
                    overrides = {
                        "vision_cfg": {**base["vision_cfg"], "layers": layers},
                        "text_cfg": {
                            **base["text_cfg"],
                            "layers": layers,
                            **(
                                {"context_length": self.config.force_context_length}
                                if self.config.force_context_length
                                else {}
                            ),
                        },
                    }
            model, _, preprocess = open_clip.create_model_and_transforms(
                self.config.model_name,
                pretrained=None if self.random_init else self.config.checkpoint,
                device=self.config.device,
                force_image_size=self.config.force_image_size,
                force_context_length=self.config.force_context_length,
                **overrides,
            )
            model.eval()
            # open_clip's SimpleTokenizer reads a BPE file bundled in the wheel; only
            # hf-tokenizer models (e.g. SigLIP) would reach for the hub, so refuse those.
            tokenizer = open_clip.get_tokenizer(
                self.config.model_name, context_length=self.config.force_context_length
            )
            if not isinstance(tokenizer, open_clip.tokenizer.SimpleTokenizer):
                raise RuntimeError(
                    f"{self.config.model_name} needs a Hugging Face tokenizer download; "
                    "choose an OpenCLIP model with the built-in tokenizer."
                )
            self._model, self._preprocess, self._tokenizer = model, preprocess, tokenizer
            self.dim = (
                int(model.text_projection.shape[1])
                if hasattr(model, "text_projection") and model.text_projection is not None
                else 0
            )

    def embed(self, images: Sequence[Image.Image]) -> np.ndarray:
        import torch

        self._load()
        images = list(images)
        out = []
        with torch.no_grad():
            for start in range(0, len(images), self.config.batch_size):
                chunk = images[start : start + self.config.batch_size]
                x = torch.stack([self._preprocess(im.convert("RGB")) for im in chunk])
                feats = self._model.encode_image(x.to(self.config.device)).float()
                out.append(torch.nn.functional.normalize(feats, dim=-1).cpu().numpy())
        if not out:
            return np.zeros((0, self.dim), np.float32)
        result = np.concatenate(out).astype(np.float32)
        self.dim = result.shape[1]
        return result

    def embed_text(self, terms: Sequence[str]) -> np.ndarray:
        """(len(terms), dim) L2-normalised text embeddings, cached by model id and a hash
        of the exact term list and prompt (the vocabulary is embedded once per process)."""
        import torch

        self._load()
        terms = list(terms)
        digest = hashlib.sha256(
            "\x1f".join([self.id, self.config.prompt, *terms]).encode()
        ).hexdigest()
        cached = self._text_cache.get(digest)
        if cached is not None:
            return cached
        out = []
        with torch.no_grad():
            for start in range(0, len(terms), 64):
                chunk = [self.config.prompt.format(t) for t in terms[start : start + 64]]
                feats = self._model.encode_text(self._tokenizer(chunk)).float()
                out.append(torch.nn.functional.normalize(feats, dim=-1).cpu().numpy())
        result = (
            np.concatenate(out).astype(np.float32) if out else np.zeros((0, self.dim), np.float32)
        )
        self._text_cache[digest] = result
        return result


@dataclass(frozen=True)
class EncoderStatus:
    id: str
    label: str
    installed: bool
    message: str  # plain English for the UI


@cache
def _default_encoder() -> MagentaDescriptorEncoder:
    return MagentaDescriptorEncoder()


_openclip_lock = threading.Lock()
_openclip_instances: dict[OpenClipConfig, OpenClipEncoder] = {}


def get_openclip_encoder(config: OpenClipConfig | None = None) -> OpenClipEncoder:
    """One OpenClipEncoder per config per process (the model loads once)."""
    config = config or OpenClipConfig.from_settings()
    with _openclip_lock:
        if config not in _openclip_instances:
            _openclip_instances[config] = OpenClipEncoder(config)
        return _openclip_instances[config]


def get_encoder(encoder_id: str) -> Encoder:
    """The encoder registered under ``encoder_id``; ValueError for an unknown id,
    RuntimeError (with the operator's to-do) for a known but uninstalled one."""
    if encoder_id == DEFAULT_ENCODER_ID:
        return _default_encoder()
    if encoder_id.startswith("openclip:"):
        model_name = encoder_id.split(":", 1)[1]
        config = OpenClipConfig.from_settings()
        if model_name != config.model_name:
            config = OpenClipConfig(model_name=model_name, checkpoint=config.checkpoint)
        enc = get_openclip_encoder(config)
        if not enc.installed:
            raise RuntimeError(enc.why_not_installed)
        return enc
    known = ", ".join(s.id for s in list_encoders())
    raise ValueError(f"unknown encoder {encoder_id!r}; known encoders: {known}")


def list_encoders() -> list[EncoderStatus]:
    """Every encoder the app knows, installed or not, with what to do about it."""
    default = _default_encoder()
    clip = get_openclip_encoder()
    return [
        EncoderStatus(default.id, default.label, True, "Built in; always available."),
        EncoderStatus(
            clip.id,
            clip.label,
            clip.installed,
            "Installed: OpenCLIP keywords and embeddings are available."
            if clip.installed
            else clip.why_not_installed,
        ),
    ]
