"""diffusion_status and register_weights: what an operator sees before any generation."""

from __future__ import annotations

import json
import shutil

import pytest
from django.core.management import CommandError, call_command

from generation.weights import (
    ENV_IP_ADAPTER,
    ENV_MODEL_DIR,
    WeightsLayoutError,
    diffusion_status,
    register_weights,
)


def test_status_without_weights_says_what_to_do(no_weights_env):
    status = diffusion_status()

    assert not status.installed
    assert ENV_MODEL_DIR in status.message
    assert ENV_IP_ADAPTER in status.message
    assert "register_weights" in status.message
    assert ENV_MODEL_DIR in status.missing


def test_status_with_complete_weights_is_installed(
    no_weights_env, monkeypatch, tiny_weights, model_settings
):
    model_settings(ENV_MODEL_DIR, str(tiny_weights["model_dir"]))
    model_settings(ENV_IP_ADAPTER, str(tiny_weights["ip_adapter_path"]))

    status = diffusion_status()

    assert status.installed
    assert status.ip_adapter
    assert "32-d image embeddings" in status.message


def test_status_without_ip_adapter_is_prompt_only(
    no_weights_env, monkeypatch, tiny_weights, model_settings
):
    model_settings(ENV_MODEL_DIR, str(tiny_weights["model_dir"]))

    status = diffusion_status()

    assert status.installed
    assert not status.ip_adapter
    assert "prompt-only" in status.message
    assert ENV_IP_ADAPTER in status.message


def test_status_names_missing_parts_of_the_model(
    no_weights_env, monkeypatch, tiny_weights, tmp_path, model_settings
):
    broken = tmp_path / "model"
    shutil.copytree(tiny_weights["model_dir"], broken)
    shutil.rmtree(broken / "unet")
    model_settings(ENV_MODEL_DIR, str(broken))

    status = diffusion_status()

    assert not status.installed
    assert "unet/" in status.message


def test_status_reads_the_registry(no_weights_env, tiny_weights, tmp_path):
    registry = tmp_path / "weights.json"
    register_weights(tiny_weights["root"], registry_path=registry, family="sd15")

    status = diffusion_status(registry_path=registry)

    assert status.installed and status.ip_adapter


def test_register_rejects_an_incomplete_folder(tiny_weights, tmp_path):
    src = tmp_path / "weights"
    shutil.copytree(tiny_weights["model_dir"], src / "model")
    shutil.rmtree(src / "model" / "unet")
    for weights in (src / "model" / "vae").glob("diffusion_pytorch_model*"):
        weights.unlink()
    for name in ("tokenizer.json", "vocab.json", "merges.txt"):
        (src / "model" / "tokenizer" / name).unlink(missing_ok=True)

    with pytest.raises(WeightsLayoutError) as excinfo:
        register_weights(src, registry_path=tmp_path / "weights.json")

    message = str(excinfo.value)
    assert "unet/" in message
    assert "vae/ weights" in message
    assert "tokenizer/vocab.json + tokenizer/merges.txt" in message
    assert "IP-Adapter checkpoint" in message
    assert not (tmp_path / "weights.json").exists()


def test_register_rejects_a_folder_without_a_pipeline(tmp_path):
    (tmp_path / "notes.txt").write_text("not weights")

    with pytest.raises(WeightsLayoutError, match=r"model_index\.json"):
        register_weights(tmp_path)


def test_register_rejects_an_adapter_for_another_model(tiny_weights, tmp_path):
    from safetensors.torch import save_file

    from testkit.tiny_diffusion import build_tiny_pipeline, random_ip_adapter_state_dict

    src = tmp_path / "weights"
    shutil.copytree(tiny_weights["model_dir"], src / "model")
    unet = build_tiny_pipeline(with_ip_adapter=False).unet
    unet.register_to_config(cross_attention_dim=64)  # as if the adapter were for a wider model
    state = random_ip_adapter_state_dict(unet, image_embed_dim=32)
    save_file(
        {k: v.contiguous() for k, v in state.items()}, str(src / "ip-adapter_other.safetensors")
    )

    with pytest.raises(WeightsLayoutError, match="cross-attention dim 64"):
        register_weights(src, family="sd15")


def test_register_records_a_complete_folder(tiny_weights, tmp_path):
    registry = tmp_path / "var" / "weights.json"
    clip = tiny_weights["root"] / "open_clip"
    clip.mkdir(exist_ok=True)
    (clip / "open_clip_model.safetensors").write_bytes(b"placeholder")

    record = register_weights(tiny_weights["root"], registry_path=registry, family="sd15")

    assert record["model_dir"] == str(tiny_weights["model_dir"].resolve())
    assert record["ip_adapter_path"] == str(tiny_weights["ip_adapter_path"].resolve())
    assert record["image_embed_dim"] == 32
    assert record["open_clip_checkpoint"].endswith("open_clip_model.safetensors")
    saved = json.loads(registry.read_text())
    assert saved["diffusion"]["family"] == "sd15"
    assert saved["open_clip"]["checkpoint"] == record["open_clip_checkpoint"]


def test_command_prints_json(tiny_weights, tmp_path, capsys):
    registry = tmp_path / "weights.json"

    call_command(
        "register_weights",
        str(tiny_weights["root"]),
        "--json",
        "--family",
        "sd15",
        "--registry",
        str(registry),
    )

    printed = json.loads(capsys.readouterr().out)
    assert printed["ip_adapter_path"].endswith("ip-adapter_tiny.safetensors")
    assert registry.exists()


def test_command_fails_clearly_on_a_bad_folder(tmp_path):
    with pytest.raises(CommandError, match="IP-Adapter checkpoint"):
        call_command("register_weights", str(tmp_path), "--registry", str(tmp_path / "r.json"))


def test_status_reports_a_bad_setting_instead_of_crashing(
    no_weights_env, monkeypatch, tiny_weights, model_settings
):
    model_settings(ENV_MODEL_DIR, str(tiny_weights["model_dir"]))
    model_settings("TASTEBASE_DIFFUSION_DTYPE", "fp16")  # fp16 needs a GPU

    status = diffusion_status()

    assert not status.installed
    assert "fp16 needs device 'cuda'" in status.message


def test_the_encoder_uses_the_open_clip_checkpoint_the_registry_records(
    tiny_weights, tmp_path, settings, model_settings
):
    from taste.encoders import OpenClipConfig

    settings.TASTEBASE_WEIGHTS_REGISTRY = tmp_path / "weights.json"
    model_settings("TASTEBASE_OPENCLIP_CHECKPOINT", None)
    assert OpenClipConfig.from_settings().checkpoint is None
    clip = tiny_weights["root"] / "open_clip"
    clip.mkdir(exist_ok=True)
    (clip / "open_clip_model.safetensors").write_bytes(b"placeholder")
    register_weights(
        tiny_weights["root"], registry_path=settings.TASTEBASE_WEIGHTS_REGISTRY, family="sd15"
    )

    assert OpenClipConfig.from_settings().checkpoint.endswith("open_clip_model.safetensors")
    # An explicit setting wins over the registry.
    model_settings("TASTEBASE_OPENCLIP_CHECKPOINT", "/srv/weights/ViT-H-14.bin")
    assert OpenClipConfig.from_settings().checkpoint == "/srv/weights/ViT-H-14.bin"
