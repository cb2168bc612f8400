"""Diffusion generation backend: text-to-image guided by a taste profile through IP-Adapter.

A profile's sub-style centroids are open_clip image embeddings (ViT-H-14 for the
SD 1.5 IP-Adapter). They go straight into the IP-Adapter as `ip_adapter_image_embeds`,
so no image encoder runs at generation time; keywords go into the prompt, avoids into
the negative prompt, and the recipe's strength sets the IP-Adapter scale.

Which weights exist here, and how an operator installs them: `generation.weights`.
Like the other ML wrappers, the rest of the code sees numpy in and PIL out; the
pipeline loads once per process (`get_backend`) and never fetches from a hub.
"""

from __future__ import annotations

import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from .weights import (
    ENV_IP_ADAPTER,
    DiffusionConfig,
    WeightsLayoutError,
    check_model_dir,
)

MAX_IP_EMBEDS = 16  # each centroid adds 4 tokens to every cross-attention layer
MAX_IMAGES = 8
MAX_IP_SCALE = 2.0


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
