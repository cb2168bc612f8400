"""How fast is diffusion on this CPU? Random weights, real shapes, no download.

    .venv/bin/python bench/diffusion.py [--repeats N] [--threads N] [--with-vae]

1. One denoising step of the SD 1.5 UNet (its real config: block_out_channels
   320/640/1280/1280, cross-attention 768, 8 heads; 860M parameters) with a plain
   IP-Adapter attached (ViT-H-14 width 1024, 4 image tokens), at 512x512 (latent
   64x64), in fp32 and bf16, batch 1 (no CFG: SD-Turbo style) and batch 2 (CFG).
2. Optionally the SD 1.5 VAE decoder at 512x512 (paid once per image).
3. The tiny random pipeline of the tests, end to end through DiffusionBackend.

Weights are random, so the images are noise, but a step costs what it costs with
trained weights of the same shapes. About 2.5 minutes on an idle 2-core machine
(+1.5 with --with-vae); other load on the machine stretches every figure.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"  # a benchmark never reaches for a hub
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import torch

# The real SD 1.5 UNet config (unet/config.json of the SD 1.5 release), minus defaults.
SD15_UNET = {
    "sample_size": 64,
    "in_channels": 4,
    "out_channels": 4,
    "layers_per_block": 2,
    "block_out_channels": (320, 640, 1280, 1280),
    "down_block_types": (
        "CrossAttnDownBlock2D",
        "CrossAttnDownBlock2D",
        "CrossAttnDownBlock2D",
        "DownBlock2D",
    ),
    "up_block_types": (
        "UpBlock2D",
        "CrossAttnUpBlock2D",
        "CrossAttnUpBlock2D",
        "CrossAttnUpBlock2D",
    ),
    "cross_attention_dim": 768,
    "attention_head_dim": 8,
    "norm_num_groups": 32,
    "norm_eps": 1e-5,
    "act_fn": "silu",
    "downsample_padding": 1,
    "flip_sin_to_cos": True,
    "freq_shift": 0,
}
SD15_VAE = {
    "in_channels": 3,
    "out_channels": 3,
    "latent_channels": 4,
    "block_out_channels": (128, 256, 512, 512),
    "layers_per_block": 2,
    "down_block_types": ("DownEncoderBlock2D",) * 4,
    "up_block_types": ("UpDecoderBlock2D",) * 4,
    "sample_size": 512,
}
VIT_H_14_DIM = 1024
TEXT_TOKENS = 77


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KiB on Linux


def timed(fn, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def fmt(times: list[float]) -> str:
    return f"median {statistics.median(times):6.2f} s  (min {min(times):.2f}, n={len(times)})"


def build_sd15_unet():  # -> UNet2DConditionModel with a random IP-Adapter
    from diffusers import UNet2DConditionModel

    from testkit.tiny_diffusion import (
        nest_ip_adapter_state_dict,
        random_ip_adapter_state_dict,
    )

    torch.manual_seed(0)
    unet = UNet2DConditionModel(**SD15_UNET).eval()
    state = random_ip_adapter_state_dict(unet, image_embed_dim=VIT_H_14_DIM)
    # The unet's own loader, as load_ip_adapter calls it.
    unet._load_ip_adapter_weights([nest_ip_adapter_state_dict(state)], low_cpu_mem_usage=False)
    return unet


def bench_unet(repeats: int) -> dict[tuple[str, int], float]:
    # 1. Build from config (random weights)
    start = time.perf_counter()
    unet = build_sd15_unet()
    params = sum(p.numel() for p in unet.parameters()) / 1e6
    print(
        f"SD 1.5 UNet + IP-Adapter: {params:.0f}M parameters, built in "
        f"{time.perf_counter() - start:.1f} s"
    )

    results = {}
    for dtype_name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        # 2. Cast in place: keeps one copy of the weights in memory
        unet.to(dtype)
        warmed = False
        for batch in (1, 2):
            generator = torch.Generator().manual_seed(batch)
            latents = torch.randn(batch, 4, 64, 64, generator=generator).to(dtype)
            text = torch.randn(batch, TEXT_TOKENS, 768, generator=generator).to(dtype)
            image_embeds = [torch.randn(batch, 1, VIT_H_14_DIM, generator=generator).to(dtype)]
            timestep = torch.tensor([500])

            def step(latents=latents, text=text, image_embeds=image_embeds, timestep=timestep):
                with torch.inference_mode():
                    unet(
                        latents,
                        timestep,
                        encoder_hidden_states=text,
                        added_cond_kwargs={"image_embeds": image_embeds},
                    )

            if not warmed:  # 3. Warm-up, once per dtype: first-call kernel selection
                step()
                warmed = True
            times = timed(step, repeats)
            # The fastest run is the least disturbed by other processes on the machine.
            results[(dtype_name, batch)] = min(times)
            label = "batch 2 (CFG)" if batch == 2 else "batch 1 (no CFG)"
            print(f"  UNet step 512x512 {dtype_name} {label:17s} {fmt(times)}")
    return results


def bench_vae(repeats: int) -> float:
    from diffusers import AutoencoderKL

    torch.manual_seed(0)
    vae = AutoencoderKL(**SD15_VAE).eval()
    latents = torch.randn(1, 4, 64, 64)

    def decode():
        with torch.inference_mode():
            vae.decode(latents)

    decode()
    times = timed(decode, repeats)
    print(f"  VAE decode 512x512 fp32              {fmt(times)}")
    return min(times)


def bench_tiny(repeats: int) -> None:
    from generation.diffusion import DiffusionBackend
    from generation.weights import DiffusionConfig
    from testkit.tiny_diffusion import TINY_IMAGE_EMBED_DIM, save_tiny_weights

    with tempfile.TemporaryDirectory(prefix="tastebase-bench-") as tmp:
        start = time.perf_counter()
        paths = save_tiny_weights(Path(tmp))
        saved = time.perf_counter() - start
        start = time.perf_counter()
        config = DiffusionConfig(
            model_dir=paths["model_dir"], ip_adapter_path=paths["ip_adapter_path"], guidance=6.0
        )
        backend = DiffusionBackend(config)
        loaded = time.perf_counter() - start
        print(f"Tiny pipeline: built+saved {saved:.1f} s, loaded from disk {loaded:.2f} s")
        centroids = np.random.default_rng(0).normal(size=(3, TINY_IMAGE_EMBED_DIM))
        for size in (64, 128):

            def run(size=size):
                backend(
                    prompt="grainy autumn photograph",
                    negative_prompt="neon",
                    ip_embeds=centroids,
                    ip_scale=0.7,
                    seed=0,
                    steps=2,
                    width=size,
                    height=size,
                )

            run()
            print(f"  2 steps CFG {size}x{size} end to end     {fmt(timed(run, repeats))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1, help="timed runs per figure")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--with-vae", action="store_true", help="also time the VAE decoder")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    # Other processes on the machine slow every figure down: print the load to judge them.
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"oneDNN: {torch.backends.mkldnn.is_available()}, "
        f"load average before: {os.getloadavg()[0]:.2f}"
    )

    t0 = time.perf_counter()
    unet = bench_unet(args.repeats)
    vae = bench_vae(args.repeats) if args.with_vae else None
    bench_tiny(args.repeats)

    # Whole-image estimates from the step times (text encoder cost is small by comparison).
    print(
        "Estimates per 512x512 image from the fastest runs (UNet steps only"
        + (" + VAE decode):" if vae else "):")
    )
    decode = vae or 0.0
    for dtype_name in ("fp32", "bf16"):
        print(
            f"  {dtype_name}: SD 1.5 25 steps CFG ~{25 * unet[(dtype_name, 2)] + decode:5.0f} s; "
            f"SD-Turbo-like 2 steps ~{2 * unet[(dtype_name, 1)] + decode:4.0f} s"
        )
    print(
        f"Total {time.perf_counter() - t0:.0f} s, peak RSS {peak_rss_gib():.2f} GiB, "
        f"load average after: {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
