"""Diffusion generation backend: text-to-image guided by a taste profile through IP-Adapter.

A profile's sub-style centroids are open_clip image embeddings (ViT-H-14 for the
SD 1.5 IP-Adapter). They go straight into the IP-Adapter as `ip_adapter_image_embeds`,
so no image encoder runs at generation time; keywords go into the prompt, avoids into
the negative prompt, and the recipe's strength sets the IP-Adapter scale.

No weights ship with Tastebase. An operator lays out a local folder and points the
environment at it (or runs `python manage.py register_weights DIR`):

    TASTEBASE_DIFFUSION_MODEL_DIR   a diffusers folder: model_index.json, unet/, vae/,
                                    text_encoder/, tokenizer/, scheduler/ (+ _2 for SDXL)
    TASTEBASE_IP_ADAPTER_PATH       an IP-Adapter checkpoint (.safetensors or .bin), e.g.
                                    ip-adapter_sd15.safetensors (image encoder ViT-H-14)
    TASTEBASE_DIFFUSION_FAMILY      sd-turbo | sd15 | sdxl (default: read from the folder)
    TASTEBASE_DIFFUSION_DEVICE      cpu | cuda (default cpu)
    TASTEBASE_DIFFUSION_DTYPE       fp32 | bf16 | fp16 (default fp32; fp16 needs cuda)

Like the other ML wrappers, the rest of the code sees numpy in and PIL out; the
pipeline loads once per process (`get_backend`) and never fetches from a hub.
"""

from __future__ import annotations

import importlib.util
import json
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from PIL import Image

Family = Literal["sd-turbo", "sd15", "sdxl"]
FAMILIES: tuple[str, ...] = ("sd-turbo", "sd15", "sdxl")
DTYPES: tuple[str, ...] = ("fp32", "bf16", "fp16")
DEVICES: tuple[str, ...] = ("cpu", "cuda")

# Per family: sampler steps and classifier-free guidance the model was made for.
# SD-Turbo is distilled for 1-4 steps without guidance (guidance 0 disables CFG, so the
# negative prompt has no effect there); SD 1.5 and SDXL need CFG for a usable image.
FAMILY_DEFAULTS: dict[str, dict[str, float]] = {
    "sd-turbo": {"steps": 2, "guidance": 0.0, "size": 512},
    "sd15": {"steps": 25, "guidance": 7.0, "size": 512},
    "sdxl": {"steps": 30, "guidance": 5.0, "size": 1024},
}

ENV_MODEL_DIR = "TASTEBASE_DIFFUSION_MODEL_DIR"
ENV_IP_ADAPTER = "TASTEBASE_IP_ADAPTER_PATH"
ENV_FAMILY = "TASTEBASE_DIFFUSION_FAMILY"
ENV_DEVICE = "TASTEBASE_DIFFUSION_DEVICE"
ENV_DTYPE = "TASTEBASE_DIFFUSION_DTYPE"

PIP_PINS = "diffusers==0.42.1 transformers==5.23.0 accelerate==1.15.0 safetensors==0.8.0"
MAX_IP_EMBEDS = 16  # each centroid adds 4 tokens to every cross-attention layer
MAX_IMAGES = 8
MAX_IP_SCALE = 2.0

# Folder layout of a diffusers pipeline: subfolder -> (config file, weight-file globs).
_TEXT_ENCODER_WEIGHTS = (
    "model*.safetensors",
    "pytorch_model*.bin",
    "model*.safetensors.index.json",
)
_DIFFUSERS_WEIGHTS = ("diffusion_pytorch_model*.safetensors", "diffusion_pytorch_model*.bin")
_COMPONENTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "unet": ("config.json", _DIFFUSERS_WEIGHTS),
    "vae": ("config.json", _DIFFUSERS_WEIGHTS),
    "text_encoder": ("config.json", _TEXT_ENCODER_WEIGHTS),
    "text_encoder_2": ("config.json", _TEXT_ENCODER_WEIGHTS),
    "scheduler": ("scheduler_config.json", ()),
}
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")


class WeightsLayoutError(ValueError):
    """A weights folder is not usable; the message says what is missing."""


def ip_scale_for_strength(strength: float) -> float:
    """Map a recipe's strength (0..1) to the IP-Adapter scale.

    Linear and deliberately uncompressed: 0 is prompt only (the centroids have no
    effect), 0.5 is the balance of text and image prompt that the IP-Adapter authors
    and diffusers' docs suggest as a starting point, 1.0 lets the image prompt
    dominate (the look of the board, at the cost of following the prompt less).
    """
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"strength must be in [0, 1], got {strength}")
    return float(strength)


# --------------------------------------------------------------------------- config


@dataclass(frozen=True)
class DiffusionConfig:
    """How to build the pipeline. Frozen, so it can key the per-process cache."""

    model_dir: Path
    family: Family = "sd15"
    ip_adapter_path: Path | None = None
    # Width of the image embeddings the IP-Adapter was trained on (1024 for ViT-H-14).
    # None: read it from the IP-Adapter file, which is the authority anyway.
    image_embed_dim: int | None = None
    device: str = "cpu"
    dtype: str = "fp32"
    steps: int | None = None  # default for __call__ callers; None: the family's default
    guidance: float | None = None  # None: the family's default
    # open_clip usually hands out L2-normalised embeddings (and a mean of them is shorter
    # still); IP-Adapter was trained on the raw, unnormalised projection. Set this to
    # rescale each centroid to the raw norm measured on real images with the real
    # encoder; None passes the centroids through unchanged.
    ip_embed_norm: float | None = None
    num_threads: int | None = None  # torch intra-op threads; None: torch's default

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"family must be one of {FAMILIES}, got {self.family!r}")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {DTYPES}, got {self.dtype!r}")
        if self.device not in DEVICES:
            raise ValueError(f"device must be one of {DEVICES}, got {self.device!r}")
        if self.dtype == "fp16" and self.device == "cpu":
            raise ValueError("fp16 needs device 'cuda'; on the CPU use fp32 or bf16")
        if self.ip_embed_norm is not None and self.ip_embed_norm <= 0:
            raise ValueError(f"ip_embed_norm must be positive, got {self.ip_embed_norm}")

    @property
    def guidance_scale(self) -> float:
        if self.guidance is not None:
            return float(self.guidance)
        return float(FAMILY_DEFAULTS[self.family]["guidance"])

    @property
    def default_steps(self) -> int:
        return int(self.steps if self.steps is not None else FAMILY_DEFAULTS[self.family]["steps"])

    @classmethod
    def from_env(cls, registry_path: Path | None = None) -> DiffusionConfig | None:
        """The config the environment asks for; None when no model folder is configured.

        Environment variables win; otherwise a registry written by `register_weights`
        (at `registry_path`) fills in the folder, adapter and family.
        """
        from config.env import env

        record = _read_registry(registry_path).get("diffusion", {}) if registry_path else {}
        model_dir = env(ENV_MODEL_DIR) or record.get("model_dir")
        if not model_dir:
            return None
        ip_path = env(ENV_IP_ADAPTER) or record.get("ip_adapter_path")
        family = env(ENV_FAMILY) or record.get("family") or _detect_family(Path(model_dir))
        return cls(
            model_dir=Path(model_dir),
            family=family or "sd15",
            ip_adapter_path=Path(ip_path) if ip_path else None,
            device=env(ENV_DEVICE) or "cpu",
            dtype=env(ENV_DTYPE) or "fp32",
        )


@dataclass(frozen=True)
class BackendStatus:
    installed: bool
    message: str
    missing: tuple[str, ...] = ()
    ip_adapter: bool = False  # False: prompt only, the profile's centroids are not used


# --------------------------------------------------------------------------- weights folder


def _glob_any(folder: Path, patterns: tuple[str, ...]) -> list[Path]:
    return sorted({p for pattern in patterns for p in folder.glob(pattern)})


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _read_registry(path: Path | None) -> dict[str, Any]:
    return _read_json(Path(path)) if path and Path(path).is_file() else {}


def _detect_family(model_dir: Path) -> str | None:
    """sdxl from the pipeline class; sd15 vs SD 2.x (SD-Turbo) from the text width."""
    index = _read_json(model_dir / "model_index.json")
    if "XL" in str(index.get("_class_name", "")):
        return "sdxl"
    cross = _read_json(model_dir / "unet" / "config.json").get("cross_attention_dim")
    return {768: "sd15", 1024: "sd-turbo"}.get(cross) if isinstance(cross, int) else None


def _find_model_dir(root: Path) -> Path | None:
    if (root / "model_index.json").is_file():
        return root
    found = sorted(p.parent for p in root.glob("*/model_index.json"))
    return found[0] if found else None


def check_model_dir(model_dir: Path) -> list[str]:
    """What a diffusers pipeline folder lacks, as readable items (empty: complete)."""
    index_path = model_dir / "model_index.json"
    if not index_path.is_file():
        return [f"{index_path} (a diffusers pipeline folder, saved with save_pretrained)"]
    index = _read_json(index_path)
    wanted = ["unet", "vae", "text_encoder", "tokenizer", "scheduler"]
    # SDXL lists a second text encoder and tokenizer; an entry of [null, null] means absent.
    wanted += [k for k in ("text_encoder_2", "tokenizer_2") if _listed(index, k)]
    missing = []
    for name in wanted:
        folder = model_dir / name
        if not folder.is_dir():
            missing.append(f"{name}/")
        elif name.startswith("tokenizer"):
            has_bpe = (folder / "vocab.json").is_file() and (folder / "merges.txt").is_file()
            if not has_bpe and not (folder / "tokenizer.json").is_file():
                missing.append(f"{name}/vocab.json + {name}/merges.txt (or tokenizer.json)")
        else:
            config_name, weight_globs = _COMPONENTS[name]
            if not (folder / config_name).is_file():
                missing.append(f"{name}/{config_name}")
            if weight_globs and not _glob_any(folder, weight_globs):
                missing.append(f"{name}/ weights ({' or '.join(weight_globs)})")
    return missing


def _listed(index: dict[str, Any], key: str) -> bool:
    entry = index.get(key)
    return isinstance(entry, list) and any(part is not None for part in entry)


@dataclass(frozen=True)
class IPAdapterInfo:
    path: Path
    kind: str  # "ip-adapter" (pooled embeddings) or an unsupported kind's name
    image_embed_dim: int | None
    cross_attention_dim: int | None


def inspect_ip_adapter(path: Path) -> IPAdapterInfo:
    """Read an IP-Adapter checkpoint's shapes without building anything.

    The plain IP-Adapter's `image_proj.proj.weight` is (4 x cross_attention_dim,
    image_embed_dim): it tells which image encoder (1024: ViT-H-14, 1280: ViT-bigG-14)
    and which base model (768: SD 1.5, 2048: SDXL) it belongs to.
    """
    path = Path(path)
    shapes: dict[str, tuple[int, ...]] = {}
    if path.suffix == ".safetensors":
        from safetensors import safe_open

        with safe_open(str(path), framework="numpy") as handle:
            for key in handle.keys():  # noqa: SIM118 - safe_open is not a Mapping
                if key.startswith("image_proj."):
                    shapes[key] = tuple(handle.get_slice(key).get_shape())
    else:
        import torch

        state = torch.load(str(path), map_location="cpu", weights_only=True)
        shapes = {f"image_proj.{k}": tuple(v.shape) for k, v in state.get("image_proj", {}).items()}
    proj = shapes.get("image_proj.proj.weight")
    if proj is not None and len(proj) == 2:
        return IPAdapterInfo(path, "ip-adapter", int(proj[1]), int(proj[0]) // 4)
    if not shapes:
        return IPAdapterInfo(path, "not an IP-Adapter (no image_proj.* weights)", None, None)
    if "image_proj.latents" in shapes:
        kind = "ip-adapter-plus (needs patch embeddings, not pooled centroids)"
    else:
        kind = "unsupported IP-Adapter variant (face/full-face)"
    return IPAdapterInfo(path, kind, None, None)


_PIPELINE_SUBFOLDERS = (
    "unet",
    "vae",
    "text_encoder",
    "text_encoder_2",
    "tokenizer",
    "tokenizer_2",
    "scheduler",
    "safety_checker",
    "feature_extractor",
    "image_encoder",
)


def _find_files(root: Path, words: tuple[str, ...], model_dir: Path | None) -> list[Path]:
    """Weight files under `root` whose path names one of `words`, outside the pipeline's parts."""
    skip = {model_dir / name for name in _PIPELINE_SUBFOLDERS} if model_dir else set()
    hits = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.suffix not in _WEIGHT_SUFFIXES:
            continue
        if skip.intersection(path.parents):
            continue
        where = "/".join(path.relative_to(root).parts).lower().replace("_", "-")
        if any(word in where for word in words):
            hits.append(path)
    # Prefer safetensors: loading it runs no pickle.
    return sorted(hits, key=lambda p: (p.suffix != ".safetensors", str(p)))


def register_weights(
    src_dir: Path | str, *, registry_path: Path | str | None = None, family: str | None = None
) -> dict[str, Any]:
    """Validate a local weights folder and record what it holds.

    `src_dir` holds a diffusers pipeline folder (itself or one level down), an
    IP-Adapter checkpoint (a .safetensors/.bin with "ip-adapter" in its path) and,
    optionally, an open_clip checkpoint ("open-clip" in its path). Raises
    `WeightsLayoutError` naming every missing part. With `registry_path`, the record is
    merged into that JSON file under "diffusion" (and "open_clip").
    """
    # 1. The folder itself
    root = Path(src_dir).expanduser().resolve()
    if not root.is_dir():
        raise WeightsLayoutError(f"{root} is not a folder")

    # 2. The diffusers pipeline folder
    missing: list[str] = []
    model_dir = _find_model_dir(root)
    if model_dir is None:
        missing.append(
            "model_index.json: a diffusers pipeline folder (with unet/, vae/, text_encoder/, "
            "tokenizer/, scheduler/), in DIR or one level down"
        )
    else:
        missing += check_model_dir(model_dir)

    # 3. The IP-Adapter, checked against the model it will be attached to
    ip_files = _find_files(root, ("ip-adapter",), model_dir)
    ip_info = inspect_ip_adapter(ip_files[0]) if ip_files else None
    if ip_info is None:
        missing.append("an IP-Adapter checkpoint (e.g. ip-adapter_sd15.safetensors)")
    elif ip_info.kind != "ip-adapter":
        missing.append(f"a plain IP-Adapter checkpoint ({ip_info.path.name} is {ip_info.kind})")
    if missing:
        raise WeightsLayoutError(
            f"{root} is not a usable weights folder; missing: " + "; ".join(missing)
        )
    assert model_dir is not None and ip_info is not None  # for the type checker

    unet_cross = _read_json(model_dir / "unet" / "config.json").get("cross_attention_dim")
    if ip_info.cross_attention_dim != unet_cross:
        raise WeightsLayoutError(
            f"{ip_info.path.name} was trained for a UNet with cross-attention dim "
            f"{ip_info.cross_attention_dim}, the model in {model_dir} has {unet_cross} "
            "(an SD 1.5 adapter needs an SD 1.5 model, an SDXL adapter an SDXL model)"
        )
    detected = family or _detect_family(model_dir)
    if detected not in FAMILIES:
        raise WeightsLayoutError(
            f"cannot tell the model family of {model_dir}; pass one of {FAMILIES} explicitly"
        )

    # 4. The optional open_clip checkpoint (the taste encoder that makes the centroids)
    clip_files = _find_files(root, ("open-clip",), model_dir)

    # 5. The record, and the registry file
    record: dict[str, Any] = {
        "family": detected,
        "model_dir": str(model_dir),
        "ip_adapter_path": str(ip_info.path),
        "image_embed_dim": ip_info.image_embed_dim,
        "cross_attention_dim": unet_cross,
        "open_clip_checkpoint": str(clip_files[0]) if clip_files else None,
        "env": {
            ENV_MODEL_DIR: str(model_dir),
            ENV_IP_ADAPTER: str(ip_info.path),
            ENV_FAMILY: detected,
        },
    }
    if registry_path is not None:
        registry_path = Path(registry_path)
        registry = _read_registry(registry_path)
        registry["diffusion"] = {k: v for k, v in record.items() if k != "env"}
        if clip_files:
            registry["open_clip"] = {
                "checkpoint": str(clip_files[0]),
                "image_embed_dim": ip_info.image_embed_dim,
            }
        registry_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = registry_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(registry, indent=2), encoding="utf-8")
        tmp.replace(registry_path)  # atomic: a reader never sees half a file
    return record


# --------------------------------------------------------------------------- status


def diffusion_status(registry_path: Path | None = None) -> BackendStatus:
    """Whether the diffusion backend can run here, and what an operator must do if not."""
    how = (
        f"set {ENV_MODEL_DIR} to a local diffusers folder (model_index.json, unet/, vae/, "
        f"text_encoder/, tokenizer/, scheduler/) and {ENV_IP_ADAPTER} to an IP-Adapter "
        "checkpoint (ip-adapter_sd15.safetensors, image encoder ViT-H-14), or put both in one "
        "folder and run `python manage.py register_weights DIR`"
    )
    # 1. Python packages
    absent = [m for m in ("torch", "diffusers", "transformers") if not importlib.util.find_spec(m)]
    if absent:
        return BackendStatus(
            False,
            f"Diffusion is not installed: missing Python packages {', '.join(absent)}. "
            f"Run `pip install torch==2.14.1 {PIP_PINS}`, then {how}.",
            missing=tuple(absent),
        )
    # 2. The model folder
    try:
        config = DiffusionConfig.from_env(registry_path)
    except ValueError as exc:  # e.g. TASTEBASE_DIFFUSION_DTYPE=fp16 on a CPU worker
        return BackendStatus(False, f"Diffusion is misconfigured: {exc}.", missing=("config",))
    if config is None:
        return BackendStatus(
            False,
            f"Diffusion is not installed: no model weights configured ({ENV_MODEL_DIR} is "
            f"unset). To enable it, {how}.",
            missing=(ENV_MODEL_DIR, ENV_IP_ADAPTER),
        )
    missing = check_model_dir(config.model_dir)
    if missing:
        return BackendStatus(
            False,
            f"Diffusion is not installed: {config.model_dir} lacks {', '.join(missing)}. "
            f"To enable it, {how}.",
            missing=tuple(missing),
        )
    # 3. The IP-Adapter: without it the backend still runs, from the prompt alone.
    if config.ip_adapter_path is None or not config.ip_adapter_path.is_file():
        what = config.ip_adapter_path or f"{ENV_IP_ADAPTER} (unset)"
        return BackendStatus(
            True,
            f"Diffusion ({config.family}) is installed but prompt-only: IP-Adapter {what} is "
            "missing, so the profile's sub-styles are not used. Point "
            f"{ENV_IP_ADAPTER} at an IP-Adapter .safetensors for this model.",
            missing=(ENV_IP_ADAPTER,),
        )
    info = inspect_ip_adapter(config.ip_adapter_path)
    if info.kind != "ip-adapter":
        return BackendStatus(
            True,
            f"Diffusion ({config.family}) is installed but prompt-only: "
            f"{config.ip_adapter_path.name} is {info.kind}. Use a plain IP-Adapter checkpoint.",
            missing=(ENV_IP_ADAPTER,),
        )
    return BackendStatus(
        True,
        f"Diffusion ({config.family}, {config.device}/{config.dtype}) is installed with an "
        f"IP-Adapter for {info.image_embed_dim}-d image embeddings.",
        ip_adapter=True,
    )


# --------------------------------------------------------------------------- backend


def _torch_dtype(name: str):  # -> torch.dtype
    import torch

    return {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[name]


def _ip_projection_dims(pipeline) -> list[int]:
    """Input width of each attached IP-Adapter's image projection (empty: none attached)."""
    from diffusers.models.embeddings import ImageProjection, MultiIPAdapterImageProjection

    proj = getattr(pipeline.unet, "encoder_hid_proj", None)
    if not isinstance(proj, MultiIPAdapterImageProjection):
        return []
    dims = []
    for layer in proj.image_projection_layers:
        if not isinstance(layer, ImageProjection):
            raise ValueError(
                f"unsupported IP-Adapter projection {type(layer).__name__}: Tastebase feeds "
                "pooled image embeddings, which only the plain IP-Adapter takes"
            )
        dims.append(layer.image_embeds.in_features)
    return dims


def _load_pipeline(config: DiffusionConfig):  # -> DiffusionPipeline
    """Build the pipeline from local files only."""
    from diffusers import StableDiffusionPipeline, StableDiffusionXLPipeline

    missing = check_model_dir(config.model_dir)
    if missing:
        raise WeightsLayoutError(f"{config.model_dir} lacks {', '.join(missing)}")
    pipeline_class = (
        StableDiffusionXLPipeline if config.family == "sdxl" else StableDiffusionPipeline
    )
    kwargs: dict[str, Any] = {"image_encoder": None, "feature_extractor": None}
    if pipeline_class is StableDiffusionPipeline:
        # The SD safety checker is a second CLIP model operators rarely have locally;
        # generations are reviewed by the people who asked for them.
        kwargs.update(safety_checker=None, requires_safety_checker=False)
    pipeline = pipeline_class.from_pretrained(
        str(config.model_dir),
        dtype=_torch_dtype(config.dtype),  # diffusers >= 0.40 name (was torch_dtype)
        local_files_only=True,
        **kwargs,
    )
    return pipeline


class DiffusionBackend:
    """A text-to-image pipeline with an optional IP-Adapter; numpy in, PIL out.

    Build it once per process (see `get_backend`): loading costs seconds to minutes,
    a call costs what the steps cost. Calls are serialised by a lock because the
    IP-Adapter scale is state on the pipeline's attention processors.
    """

    def __init__(self, config: DiffusionConfig, *, pipeline: Any | None = None) -> None:
        import torch

        self.config = config
        self._lock = threading.Lock()
        if config.num_threads:
            torch.set_num_threads(config.num_threads)

        # 1. The pipeline: given (tests, bench) or loaded from the local folder
        if pipeline is None:
            pipeline = _load_pipeline(config)
        pipeline.set_progress_bar_config(disable=True)

        # 2. The IP-Adapter, through diffusers' own loader (swaps the attention
        #    processors and builds the image projection from the checkpoint's shapes)
        if config.ip_adapter_path is not None and not _ip_projection_dims(pipeline):
            path = Path(config.ip_adapter_path)
            if not path.is_file():
                raise WeightsLayoutError(f"IP-Adapter checkpoint {path} does not exist")
            pipeline.load_ip_adapter(
                str(path.parent),
                subfolder="",
                weight_name=path.name,
                image_encoder_folder=None,  # we pass embeddings, never images
                local_files_only=True,
            )

        # 3. Device and dtype last, so the adapter's layers move with the rest. Cast only a
        #    handed-in pipeline: a loaded one already has the dtype (and diffusers warns
        #    about blanket casts of modules it keeps in fp32).
        if pipeline.dtype != _torch_dtype(config.dtype):
            pipeline = pipeline.to(dtype=_torch_dtype(config.dtype))
        self.pipeline = pipeline.to(config.device)
        dims = _ip_projection_dims(self.pipeline)
        if len(dims) > 1:
            raise ValueError("one IP-Adapter at a time is supported")
        self.image_embed_dim: int | None = dims[0] if dims else None
        if (
            self.image_embed_dim is not None
            and config.image_embed_dim is not None
            and config.image_embed_dim != self.image_embed_dim
        ):
            raise ValueError(
                f"the IP-Adapter takes {self.image_embed_dim}-d image embeddings, the config "
                f"says {config.image_embed_dim}"
            )

    @property
    def has_ip_adapter(self) -> bool:
        return self.image_embed_dim is not None

    @property
    def do_classifier_free_guidance(self) -> bool:
        # The same rule the diffusers pipelines apply; guidance-distilled UNets
        # (time_cond_proj_dim set) never run CFG.
        unet_config = self.pipeline.unet.config
        return (
            self.config.guidance_scale > 1
            and getattr(unet_config, "time_cond_proj_dim", None) is None
        )

    def _check_inputs(
        self,
        prompt: str,
        negative_prompt: str,
        ip_scale: float,
        seed: int,
        steps: int,
        width: int,
        height: int,
        num_images: int,
    ) -> None:
        if not isinstance(prompt, str) or not isinstance(negative_prompt, str):
            raise ValueError("prompt and negative_prompt must be strings")
        if not isinstance(steps, int) or steps < 1:
            raise ValueError(f"steps must be a positive integer, got {steps!r}")
        for name, side in (("width", width), ("height", height)):
            if not isinstance(side, int) or side < 64 or side % 8:
                raise ValueError(f"{name} must be a multiple of 8, at least 64, got {side!r}")
        if not isinstance(num_images, int) or not 1 <= num_images <= MAX_IMAGES:
            raise ValueError(f"num_images must be in 1..{MAX_IMAGES}, got {num_images!r}")
        if not 0.0 <= ip_scale <= MAX_IP_SCALE:
            raise ValueError(f"ip_scale must be in [0, {MAX_IP_SCALE}], got {ip_scale}")
        if not isinstance(seed, int) or not 0 <= seed < 2**63:
            raise ValueError(f"seed must be a non-negative 64-bit integer, got {seed!r}")

    def _ip_adapter_image_embeds(self, ip_embeds: np.ndarray | None):  # -> list[torch.Tensor]
        """numpy (n, dim) -> diffusers' `ip_adapter_image_embeds`.

        One tensor per IP-Adapter, shaped (batch, n_images, dim): each of the n
        centroids becomes one reference "image" (4 tokens each in every cross-attention
        layer). With CFG the unconditional embeddings are stacked first, as zeros:
        that is what diffusers itself uses as the negative for a plain IP-Adapter.
        The pipeline repeats the batch for num_images_per_prompt.
        """
        import torch

        dim = self.image_embed_dim
        assert dim is not None
        if ip_embeds is None:
            embeds = np.zeros((1, dim), dtype=np.float32)
        else:
            embeds = np.asarray(ip_embeds, dtype=np.float32)
            if embeds.ndim == 1:
                embeds = embeds[None, :]
            if embeds.ndim != 2 or embeds.shape[0] == 0:
                raise ValueError(f"ip_embeds must be (n, {dim}), got shape {embeds.shape}")
            if embeds.shape[1] != dim:
                raise ValueError(
                    f"ip_embeds have dim {embeds.shape[1]}, the IP-Adapter takes {dim} "
                    "(embed the board with the image encoder it was trained with)"
                )
            if embeds.shape[0] > MAX_IP_EMBEDS:
                raise ValueError(f"at most {MAX_IP_EMBEDS} ip_embeds, got {embeds.shape[0]}")
            if not np.isfinite(embeds).all():
                raise ValueError("ip_embeds contain NaN or infinite values")
            if self.config.ip_embed_norm is not None:
                norms = np.linalg.norm(embeds, axis=1, keepdims=True)
                embeds = embeds * (self.config.ip_embed_norm / np.maximum(norms, 1e-12))

        positive = torch.from_numpy(np.ascontiguousarray(embeds))[None]  # (1, n, dim)
        if self.do_classifier_free_guidance:
            positive = torch.cat([torch.zeros_like(positive), positive], dim=0)  # (2, n, dim)
        return [positive.to(self.pipeline.device, self.pipeline.unet.dtype)]

    def __call__(
        self,
        *,
        prompt: str,
        negative_prompt: str,
        ip_embeds: np.ndarray | None,
        ip_scale: float,
        seed: int,
        steps: int,
        width: int,
        height: int,
        num_images: int = 1,
    ) -> list[Image.Image]:
        """Generate `num_images` images of `width` x `height`.

        `ip_embeds` are the profile's centroid embeddings, (n_clusters or 1, dim), in the
        IP-Adapter's image-encoder space; `ip_scale` is the IP-Adapter scale (see
        `ip_scale_for_strength`). The same seed and inputs give the same images.
        """
        import torch

        # 1. Check inputs, before any work
        self._check_inputs(
            prompt, negative_prompt, ip_scale, seed, steps, width, height, num_images
        )
        if ip_embeds is not None and not self.has_ip_adapter:
            raise ValueError(
                "ip_embeds given but no IP-Adapter is installed; set "
                f"{ENV_IP_ADAPTER} or pass ip_embeds=None for prompt-only generation"
            )

        # 2. IP-Adapter inputs. With an adapter attached the UNet needs image embeddings on
        #    every call, so prompt-only calls get a zero embedding at scale 0.
        call_kwargs: dict[str, Any] = {}
        scale = 0.0
        if self.has_ip_adapter:
            call_kwargs["ip_adapter_image_embeds"] = self._ip_adapter_image_embeds(ip_embeds)
            scale = float(ip_scale) if ip_embeds is not None else 0.0
        # 3. A CPU generator: the same seed gives the same noise on CPU and GPU workers
        generator = torch.Generator(device="cpu").manual_seed(seed)

        # 4. Denoise and decode
        with self._lock, torch.inference_mode():
            if self.has_ip_adapter:
                self.pipeline.set_ip_adapter_scale(scale)
            output = self.pipeline(
                prompt=prompt,
                negative_prompt=negative_prompt or None,
                num_inference_steps=steps,
                guidance_scale=self.config.guidance_scale,
                width=width,
                height=height,
                num_images_per_prompt=num_images,
                generator=generator,
                output_type="pil",
                **call_kwargs,
            )
        images = list(output.images)
        if len(images) != num_images or any(im.size != (width, height) for im in images):
            raise RuntimeError("the pipeline returned images of an unexpected count or size")
        return images

    def describe(self) -> dict[str, Any]:
        """Plain facts for logs and the UI."""
        info = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self.config).items()}
        info.update(image_embed_dim=self.image_embed_dim, cfg=self.do_classifier_free_guidance)
        return info


_backends: dict[DiffusionConfig, DiffusionBackend] = {}
_backends_lock = threading.Lock()


def get_backend(config: DiffusionConfig) -> DiffusionBackend:
    """The process-wide backend for `config`, loaded on first use and reused after."""
    with _backends_lock:
        backend = _backends.get(config)
        if backend is None:
            backend = _backends[config] = DiffusionBackend(config)
        return backend


__all__ = [
    "FAMILIES",
    "FAMILY_DEFAULTS",
    "BackendStatus",
    "DiffusionBackend",
    "DiffusionConfig",
    "IPAdapterInfo",
    "WeightsLayoutError",
    "check_model_dir",
    "diffusion_status",
    "get_backend",
    "inspect_ip_adapter",
    "ip_scale_for_strength",
    "register_weights",
]
