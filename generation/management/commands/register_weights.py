"""`python manage.py register_weights DIR [--json]`: check a local weights folder and record it.

The folder holds a diffusers pipeline (model_index.json, unet/, vae/, text_encoder/,
tokenizer/, scheduler/), an IP-Adapter checkpoint and, optionally, an open_clip
checkpoint (the OpenCLIP encoder then uses it). Nothing is copied or downloaded: the
registry records where they are.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from generation.weights import FAMILIES, WeightsLayoutError, register_weights


class Command(BaseCommand):
    help = "Validate a local folder of diffusion weights and register it for this installation."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("src_dir", help="folder holding the pipeline and the IP-Adapter")
        parser.add_argument("--json", action="store_true", help="print the record as JSON")
        parser.add_argument("--family", choices=FAMILIES, help="override the detected family")
        parser.add_argument(
            "--registry",
            default=None,
            help="registry file to write (default: the TASTEBASE_WEIGHTS_REGISTRY setting)",
        )

    def handle(self, *args, **options) -> None:
        registry = Path(options["registry"] or settings.TASTEBASE_WEIGHTS_REGISTRY)
        try:
            record = register_weights(
                options["src_dir"], registry_path=registry, family=options["family"]
            )
        except WeightsLayoutError as exc:
            # An operator's mistake, not a crash: say what is missing, exit non-zero.
            raise CommandError(str(exc)) from exc

        if options["json"]:
            self.stdout.write(json.dumps({**record, "registry": str(registry)}, indent=2))
            return
        self.stdout.write(
            self.style.SUCCESS(f"Registered {record['family']} weights in {registry}")
        )
        self.stdout.write(f"  model:       {record['model_dir']}")
        self.stdout.write(
            f"  IP-Adapter:  {record['ip_adapter_path']} "
            f"({record['image_embed_dim']}-d image embeddings)"
        )
        self.stdout.write(
            f"  open_clip:   {record['open_clip_checkpoint'] or 'not found (optional)'}"
        )
        self.stdout.write("Environment variables that select these weights explicitly:")
        for name, value in record["env"].items():
            self.stdout.write(f"  {name}={value}")
