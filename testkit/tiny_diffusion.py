"""Tiny random-weight Stable Diffusion components with an IP-Adapter, built from config.

This mirrors how diffusers' own fast tests build pipelines (a two-block UNet, a
two-block VAE, a five-layer CLIP text encoder, a DDIM scheduler) and how they attach
an IP-Adapter without weights (`create_ip_adapter_state_dict` in diffusers'
`tests/models/unets/test_models_unet_2d_condition.py`): a random state dict in the
original IP-Adapter checkpoint layout, handed to the pipeline's own loader.

Nothing here touches a model hub. The one component diffusers' tests fetch
(`hf-internal-testing/tiny-random-clip`, the tokenizer) is written here instead as a
byte-level BPE vocabulary into a temporary folder and loaded from there.

Used by the tests and by `bench/diffusion.py` (random weights make images of noise,
but they cost exactly what real weights of the same shapes cost).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

TINY_IMAGE_EMBED_DIM = 32  # stands in for ViT-H-14's 1024-d image embedding
TINY_CROSS_ATTENTION_DIM = 32
IP_ADAPTER_FILE_NAME = "ip-adapter_tiny.safetensors"
_TOKENIZER_MAX_LENGTH = 77  # CLIP's context length; the pipeline pads prompts to it


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2/CLIP's reversible map from bytes to printable characters (byte-level BPE)."""
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    chars = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            chars.append(256 + extra)
            extra += 1
    return dict(zip(printable, (chr(c) for c in chars), strict=True))


def write_tiny_clip_tokenizer_files(folder: Path) -> Path:
    """Write vocab.json and merges.txt of a tiny byte-level CLIP BPE tokenizer into `folder`.

    Every byte is a token on its own and again with CLIP's end-of-word suffix, so any
    prompt tokenizes (character by character) without an unknown token. A handful of
    merges keeps the BPE model honest. 2 + 512 + merges tokens < 1000 (text encoder vocab).
    """
    folder.mkdir(parents=True, exist_ok=True)
    vocab: dict[str, int] = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for char in _bytes_to_unicode().values():
        vocab.setdefault(char, len(vocab))
        vocab.setdefault(f"{char}</w>", len(vocab))
    merges = ["t h", "th e</w>", "a n", "i n", "o n</w>"]
    for merge in merges:
        left, right = merge.split(" ")
        vocab.setdefault(left + right, len(vocab))
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", "utf-8")
    return folder


def tiny_clip_tokenizer():  # -> transformers.CLIPTokenizer
    """A CLIPTokenizer built offline from files written to a temporary folder."""
    from transformers import CLIPTokenizer

    with tempfile.TemporaryDirectory(prefix="tastebase-tok-") as tmp:
        folder = write_tiny_clip_tokenizer_files(Path(tmp))
        # Loading from a local folder works the same across transformers 4.x and 5.x;
        # model_max_length matters: the pipeline pads every prompt to it.
        return CLIPTokenizer.from_pretrained(
            str(folder), model_max_length=_TOKENIZER_MAX_LENGTH, local_files_only=True
        )


def tiny_components(seed: int = 0) -> dict[str, Any]:
    """The components of a tiny StableDiffusionPipeline, seeded, like diffusers' fast tests."""
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=2,
        sample_size=32,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=TINY_CROSS_ATTENTION_DIM,
    )
    scheduler = DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,  # what SD1.5's scheduler uses; 0 only earns a deprecation warning
    )
    torch.manual_seed(seed)
    vae = AutoencoderKL(
        block_out_channels=[32, 64],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"],
        up_block_types=["UpDecoderBlock2D", "UpDecoderBlock2D"],
        latent_channels=4,
    )
    torch.manual_seed(seed)
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            bos_token_id=0,
            eos_token_id=1,  # our tokenizer's <|endoftext|>: the pooled output reads it
            pad_token_id=1,
            hidden_size=TINY_CROSS_ATTENTION_DIM,
            intermediate_size=37,
            layer_norm_eps=1e-05,
            num_attention_heads=4,
            num_hidden_layers=5,
            vocab_size=1000,
            max_position_embeddings=_TOKENIZER_MAX_LENGTH,
        )
    )
    return {
        "unet": unet,
        "scheduler": scheduler,
        "vae": vae,
        "text_encoder": text_encoder,
        "tokenizer": tiny_clip_tokenizer(),
        "safety_checker": None,
        "feature_extractor": None,
        "image_encoder": None,
    }


def random_ip_adapter_state_dict(unet, image_embed_dim: int, seed: int = 0) -> dict[str, Any]:
    """A random IP-Adapter (the plain, 4-token kind) for `unet`, in the checkpoint layout.

    Keys are flat, exactly as in h94's `ip-adapter_sd15.safetensors`:
    `image_proj.proj.weight|bias`, `image_proj.norm.weight|bias` (a Linear from the
    image-encoder dim to 4 x cross_attention_dim, then LayerNorm) and
    `ip_adapter.{1,3,5,...}.to_k_ip.weight|to_v_ip.weight`, one pair per cross-attention
    layer in `unet.attn_processors` order (odd ids: the even ones were self-attention in
    the original numbering). The shapes follow diffusers' `create_ip_adapter_state_dict`.
    """
    import torch

    generator = torch.Generator().manual_seed(seed)
    cross_dim = unet.config.cross_attention_dim
    block_out = list(unet.config.block_out_channels)

    def randn(*shape: int, std: float) -> torch.Tensor:
        return torch.randn(*shape, generator=generator) * std

    state: dict[str, Any] = {}
    key_id = 1
    for name in unet.attn_processors:
        if name.endswith("attn1.processor"):
            continue  # self-attention gets no image branch
        if name.startswith("mid_block"):
            hidden = block_out[-1]
        elif name.startswith("up_blocks"):
            hidden = list(reversed(block_out))[int(name[len("up_blocks.")])]
        else:
            hidden = block_out[int(name[len("down_blocks.")])]
        # The IP branch projects the image tokens (cross_dim wide) to the layer's width.
        state[f"ip_adapter.{key_id}.to_k_ip.weight"] = randn(hidden, cross_dim, std=cross_dim**-0.5)
        state[f"ip_adapter.{key_id}.to_v_ip.weight"] = randn(hidden, cross_dim, std=cross_dim**-0.5)
        key_id += 2

    num_tokens = 4
    state["image_proj.proj.weight"] = randn(
        num_tokens * cross_dim, image_embed_dim, std=image_embed_dim**-0.5
    )
    state["image_proj.proj.bias"] = torch.zeros(num_tokens * cross_dim)
    state["image_proj.norm.weight"] = torch.ones(cross_dim)
    state["image_proj.norm.bias"] = torch.zeros(cross_dim)
    return state


def nest_ip_adapter_state_dict(flat: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Flat checkpoint keys -> the `{"image_proj": ..., "ip_adapter": ...}` dict diffusers loads."""
    nested: dict[str, dict[str, Any]] = {"image_proj": {}, "ip_adapter": {}}
    for key, value in flat.items():
        group, _, rest = key.partition(".")
        nested[group][rest] = value
    return nested


def build_tiny_pipeline(
    image_embed_dim: int = TINY_IMAGE_EMBED_DIM, seed: int = 0, with_ip_adapter: bool = True
):  # -> diffusers.StableDiffusionPipeline
    """A tiny random StableDiffusionPipeline; the IP-Adapter goes in through diffusers' loader."""
    from diffusers import StableDiffusionPipeline

    pipe = StableDiffusionPipeline(**tiny_components(seed), requires_safety_checker=False)
    pipe.set_progress_bar_config(disable=True)
    if with_ip_adapter:
        state = nest_ip_adapter_state_dict(random_ip_adapter_state_dict(pipe.unet, image_embed_dim))
        # The public loader: it swaps in IPAdapterAttnProcessor2_0 and builds the image
        # projection via unet._load_ip_adapter_weights. No image encoder: we feed embeddings.
        pipe.load_ip_adapter(
            state, subfolder="", weight_name="", image_encoder_folder=None, low_cpu_mem_usage=False
        )
    return pipe


def save_tiny_weights(
    dst: Path, image_embed_dim: int = TINY_IMAGE_EMBED_DIM, seed: int = 0
) -> dict[str, Path]:
    """Write a complete, loadable weights folder the way an operator would lay one out.

    `dst/model/` is a diffusers `save_pretrained` folder (model_index.json, unet/, vae/,
    text_encoder/, tokenizer/, scheduler/); `dst/ip-adapter_tiny.safetensors` is an
    IP-Adapter checkpoint in the original flat layout.
    """
    from safetensors.torch import save_file

    dst = Path(dst)
    pipe = build_tiny_pipeline(image_embed_dim=image_embed_dim, seed=seed, with_ip_adapter=False)
    model_dir = dst / "model"
    pipe.save_pretrained(str(model_dir), safe_serialization=True)
    state = random_ip_adapter_state_dict(pipe.unet, image_embed_dim, seed=seed)
    ip_path = dst / IP_ADAPTER_FILE_NAME
    save_file({k: v.contiguous() for k, v in state.items()}, str(ip_path))
    return {"root": dst, "model_dir": model_dir, "ip_adapter_path": ip_path}
