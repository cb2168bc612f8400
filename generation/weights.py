"""Diffusion weights on this machine: the folder layout, the registry, the status.

No weights ship with Tastebase. An operator lays out a local folder and points the
settings at it (environment variables, read once in config/settings.py), or runs
`python manage.py register_weights DIR`, which checks the folder and records it in the
weights registry (TASTEBASE_WEIGHTS_REGISTRY, by default VAR_DIR/weights.json):

    TASTEBASE_DIFFUSION_MODEL_DIR   a diffusers folder: model_index.json, unet/, vae/,
                                    text_encoder/, tokenizer/, scheduler/ (+ _2 for SDXL)
    TASTEBASE_IP_ADAPTER_PATH       an IP-Adapter checkpoint (.safetensors or .bin), e.g.
                                    ip-adapter_sd15.safetensors (image encoder ViT-H-14)
    TASTEBASE_DIFFUSION_FAMILY      sd-turbo | sd15 | sdxl (default: read from the folder)
    TASTEBASE_DIFFUSION_DEVICE      cpu | cuda (default cpu)
    TASTEBASE_DIFFUSION_DTYPE       fp32 | bf16 | fp16 (default fp32; fp16 needs cuda)

This module never imports torch at module level: the pages ask for the status often.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from config.weights_registry import read_registry, write_registry

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

# The settings (and environment variables) an operator sets; read in config/settings.py.
ENV_MODEL_DIR = "TASTEBASE_DIFFUSION_MODEL_DIR"
ENV_IP_ADAPTER = "TASTEBASE_IP_ADAPTER_PATH"
ENV_FAMILY = "TASTEBASE_DIFFUSION_FAMILY"
ENV_DEVICE = "TASTEBASE_DIFFUSION_DEVICE"
ENV_DTYPE = "TASTEBASE_DIFFUSION_DTYPE"

PIP_PINS = "diffusers==0.42.1 transformers==5.23.0 accelerate==1.15.0 safetensors==0.8.0"

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
    def from_settings(cls, registry_path: Path | str | None = None) -> DiffusionConfig | None:
        """The config the settings ask for; None when no model folder is configured.

        The TASTEBASE_DIFFUSION_* settings win; otherwise the weights registry written by
        `register_weights` (`registry_path`, by default the TASTEBASE_WEIGHTS_REGISTRY
        setting) fills in the folder, adapter and family.
        """
        from django.conf import settings

        if registry_path is None:
            registry_path = settings.TASTEBASE_WEIGHTS_REGISTRY
        record = read_registry(registry_path).get("diffusion", {})
        model_dir = getattr(settings, ENV_MODEL_DIR) or record.get("model_dir")
        if not model_dir:
            return None
        ip_path = getattr(settings, ENV_IP_ADAPTER) or record.get("ip_adapter_path")
        family = (
            getattr(settings, ENV_FAMILY) or record.get("family") or _detect_family(Path(model_dir))
        )
        return cls(
            model_dir=Path(model_dir),
            family=family or "sd15",
            ip_adapter_path=Path(ip_path) if ip_path else None,
            device=getattr(settings, ENV_DEVICE) or "cpu",
            dtype=getattr(settings, ENV_DTYPE) or "fp32",
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
        sections: dict[str, Any] = {"diffusion": {k: v for k, v in record.items() if k != "env"}}
        if clip_files:
            # Read by taste's OpenCLIP encoder when TASTEBASE_OPENCLIP_CHECKPOINT is unset.
            sections["open_clip"] = {
                "checkpoint": str(clip_files[0]),
                "image_embed_dim": ip_info.image_embed_dim,
            }
        write_registry(sections, registry_path)
    return record


# --------------------------------------------------------------------------- status


def diffusion_status(registry_path: Path | str | None = None) -> BackendStatus:
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
        config = DiffusionConfig.from_settings(registry_path)
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
