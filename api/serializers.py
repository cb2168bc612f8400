"""Shapes of requests and responses. Read-only output; input serializers only validate
(the services do the writing)."""

from __future__ import annotations

import math

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from generation.models import Backend, GenerationStatus
from generation.services import AUTO, MAX_BATCH, MAX_CONTENTS, MAX_INGREDIENTS
from moodboards.models import ImageStatus, Role
from moodboards.services import MAX_REORDER
from taste.models import AnalysisStatus

MAX_ID = 2**63 - 1


class FiniteFloatField(serializers.FloatField):
    """A float that is a real number on the way in (NaN passes every range check,
    Infinity can't be JSON) and on the way out: a stored NaN or Infinity (rows saved
    before the checks existed) is served as null instead of breaking the whole list."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not math.isfinite(value):
            raise serializers.ValidationError("Use a finite number.", code="not_finite")
        return value

    def to_representation(self, value):
        value = super().to_representation(value)
        return value if value is None or math.isfinite(value) else None


def absolute(context: dict, name: str, *args) -> str:
    url = reverse(name, args=args)
    request = context.get("request")
    return request.build_absolute_uri(url) if request is not None else url


# --- errors ---------------------------------------------------------------------------


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, for programs: e.g. not_found, throttled.")
    message = serializers.CharField(help_text="A sentence for people.")
    details = serializers.DictField(
        required=False, help_text="Per-field messages for validation errors."
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


# --- users, teams, members ----------------------------------------------------------------


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.CharField()


class TeamSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    personal = serializers.BooleanField(source="is_personal")
    role = serializers.SerializerMethodField()
    member_count = serializers.SerializerMethodField()
    created = serializers.DateTimeField()

    @extend_schema_field(serializers.ChoiceField(choices=Role.choices))
    def get_role(self, team) -> str:
        return self.context["roles"].get(team.pk, "")

    def get_member_count(self, team) -> int:
        count = getattr(team, "member_count", None)
        return team.memberships.count() if count is None else count


class TeamCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)


class MemberSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    user_id = serializers.IntegerField()
    username = serializers.CharField(source="user.username")
    role = serializers.ChoiceField(choices=Role.choices)
    created = serializers.DateTimeField()


class InviteSerializer(serializers.Serializer):
    identifier = serializers.CharField(max_length=254, help_text="A username or an email.")
    role = serializers.ChoiceField(choices=Role.choices, default=Role.VIEWER)


class RoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


# --- boards and images --------------------------------------------------------------------


class BoardSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    team = serializers.IntegerField(source="team_id")
    team_name = serializers.CharField(source="team.name")
    title = serializers.CharField()
    description = serializers.CharField()
    archived = serializers.BooleanField(source="is_archived")
    image_count = serializers.SerializerMethodField()
    created = serializers.DateTimeField()
    updated = serializers.DateTimeField()
    images_url = serializers.SerializerMethodField()

    def get_image_count(self, board) -> int:
        count = getattr(board, "image_count", None)
        return board.images.count() if count is None else count

    def get_images_url(self, board) -> str:
        return absolute(self.context, "api:board_images", board.pk)


class BoardCreateSerializer(serializers.Serializer):
    team = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    title = serializers.CharField(max_length=120)
    description = serializers.CharField(required=False, allow_blank=True, default="")


class BoardUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=120, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    archived = serializers.BooleanField(required=False)


class ImageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    board = serializers.IntegerField(source="board_id")
    original_name = serializers.CharField()
    content_type = serializers.CharField()
    byte_size = serializers.IntegerField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    status = serializers.ChoiceField(choices=ImageStatus.choices)
    error = serializers.CharField()
    caption = serializers.CharField()
    position = serializers.IntegerField()
    created = serializers.DateTimeField()
    display_url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()

    def _file(self, image, kind: str) -> str | None:
        field = image.display if kind == "display" else image.thumbnail
        if not field:
            return None
        return absolute(self.context, "api:image_file", image.board_id, image.pk, kind)

    @extend_schema_field(OpenApiTypes.URI)
    def get_display_url(self, image) -> str | None:
        return self._file(image, "display")

    @extend_schema_field(OpenApiTypes.URI)
    def get_thumbnail_url(self, image) -> str | None:
        return self._file(image, "thumb")


class ImageUpdateSerializer(serializers.Serializer):
    caption = serializers.CharField(max_length=2000, allow_blank=True)


class ReorderSerializer(serializers.Serializer):
    order = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), max_length=MAX_REORDER
    )


class UploadSerializer(serializers.Serializer):
    files = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True),
        help_text="One or many images (JPEG, PNG, WebP, GIF, TIFF, HEIC) or ZIPs of them.",
    )


class UploadResultSerializer(serializers.Serializer):
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=["added", "duplicate", "rejected"])
    message = serializers.CharField(allow_blank=True)
    image_id = serializers.IntegerField(allow_null=True)


class UploadResponseSerializer(serializers.Serializer):
    results = UploadResultSerializer(many=True)
    added = serializers.IntegerField()
    duplicate = serializers.IntegerField()
    rejected = serializers.IntegerField()


# --- analyses and profiles ------------------------------------------------------------------


class AnalysisStartSerializer(serializers.Serializer):
    encoder = serializers.CharField(
        required=False, allow_blank=True, max_length=64,
        help_text="An encoder id; empty for the richest one installed.",
    )  # fmt: skip


class AnalysisSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    board = serializers.IntegerField(source="board_id")
    status = serializers.ChoiceField(choices=AnalysisStatus.choices)
    stage = serializers.CharField()
    done = serializers.IntegerField()
    total = serializers.IntegerField()
    percent = serializers.IntegerField()
    error = serializers.CharField(help_text="Why it failed, when it did.")
    warnings = serializers.ListField(child=serializers.CharField())
    encoder_id = serializers.CharField()
    created = serializers.DateTimeField()
    started = serializers.DateTimeField(allow_null=True)
    finished = serializers.DateTimeField(allow_null=True)
    status_url = serializers.SerializerMethodField()
    profile_version = serializers.SerializerMethodField()
    profile_url = serializers.SerializerMethodField()

    def get_status_url(self, analysis) -> str:
        return absolute(self.context, "api:analysis_detail", analysis.pk)

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_profile_version(self, analysis) -> int | None:
        return analysis.profile.version if analysis.profile_id else None

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_profile_url(self, analysis) -> str | None:
        if not analysis.profile_id:
            return None
        return absolute(
            self.context, "api:profile_detail", analysis.board_id, analysis.profile.version
        )


class ProfileSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    board = serializers.IntegerField(source="board_id")
    version = serializers.IntegerField()
    encoder_id = serializers.CharField()
    image_count = serializers.IntegerField()
    created = serializers.DateTimeField()
    changes = serializers.DictField()
    url = serializers.SerializerMethodField()

    def get_url(self, profile) -> str:
        return absolute(self.context, "api:profile_detail", profile.board_id, profile.version)


class ImageRefSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The key clusters' `members` use.")
    name = serializers.CharField()
    sha256 = serializers.CharField()
    image_id = serializers.IntegerField(
        allow_null=True, help_text="Null once removed from the board."
    )
    thumbnail_url = serializers.URLField(allow_null=True)


class ProfileDocumentSerializer(serializers.Serializer):
    """The profile as `analyze_images --json` prints it (more keys than listed here),
    plus the board, version and references to the images."""

    profile_id = serializers.IntegerField(help_text="Name it in a generation recipe.")
    board = serializers.IntegerField()
    profile_version = serializers.IntegerField()
    created = serializers.DateTimeField()
    encoder_id = serializers.CharField()
    n_images = serializers.IntegerField()
    clusters = serializers.ListField(child=serializers.DictField())
    outliers = serializers.ListField(child=serializers.CharField())
    keywords = serializers.ListField(child=serializers.DictField())
    avoids = serializers.ListField(child=serializers.DictField())
    palette = serializers.ListField(child=serializers.DictField())
    tone = serializers.DictField()
    summary = serializers.CharField()
    image_names = serializers.DictField(child=serializers.CharField())
    image_refs = ImageRefSerializer(many=True)


# --- generations ----------------------------------------------------------------------------


class IngredientInSerializer(serializers.Serializer):
    profile = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID,
        help_text="A profile version's `id` (or give `profile_code`).",
    )  # fmt: skip
    profile_code = serializers.RegexField(
        r"^[tT][bB]-[0-9a-fA-F]{6}$", required=False,
        help_text="A profile version's short code, e.g. `tb-7f3a2c` (instead of `profile`).",
    )  # fmt: skip
    cluster = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=0, max_value=1000,
        help_text="A sub-style index; null for the whole profile.",
    )  # fmt: skip
    weight = FiniteFloatField(required=False, default=1.0, min_value=0.0, max_value=1000.0)

    def validate(self, attrs):
        if ("profile" in attrs) == ("profile_code" in attrs):
            raise serializers.ValidationError("Name the profile by `profile` or `profile_code`.")
        return attrs


class GenerationCreateSerializer(serializers.Serializer):
    team = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, max_value=MAX_ID,
        help_text=(
            "The team the run belongs to (its members see the results; you need the editor "
            "role there). Default: the content images' team, else the first profile's."
        ),
    )  # fmt: skip
    ingredients = IngredientInSerializer(many=True, max_length=MAX_INGREDIENTS)
    backend = serializers.ChoiceField(
        choices=[AUTO, Backend.GRADE, Backend.STYLIZE, Backend.DIFFUSION], default=AUTO,
        help_text=(
            "auto (default): grade for photographic boards (or unknown medium), stylize for "
            "painted and illustrated ones; the run's backend_reason says which ran and why."
        ),
    )  # fmt: skip
    strength = FiniteFloatField(required=False, default=0.8, min_value=0.0, max_value=1.0)
    colour = FiniteFloatField(required=False, default=1.0, min_value=0.0, max_value=1.0,
                              help_text="grade: how much of the grade's colour change")  # fmt: skip
    tone = FiniteFloatField(required=False, default=1.0, min_value=0.0, max_value=1.0,
                            help_text="grade: how much of the grade's tone curve")  # fmt: skip
    texture = FiniteFloatField(required=False, default=1.0, min_value=0.0, max_value=1.0,
                               help_text="grade: how much of the board's grain")  # fmt: skip
    count = serializers.IntegerField(required=False, default=4, min_value=1, max_value=MAX_BATCH)
    cohesion = FiniteFloatField(required=False, default=1.0, min_value=0.0, max_value=1.0)
    seed = serializers.IntegerField(required=False, default=0, min_value=0, max_value=2**31 - 1)
    prompt = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    negative_prompt = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=2000
    )
    content_images = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False, default=list, max_length=MAX_CONTENTS,
        help_text="Board image ids to apply the taste to (stylize).",
    )  # fmt: skip


class QueueSerializer(serializers.Serializer):
    behind_own = serializers.IntegerField(help_text="Your earlier jobs still queued or running.")
    behind_team = serializers.IntegerField(help_text="Other members' jobs in this team ahead.")
    behind_all = serializers.IntegerField(help_text="Every job ahead in this queue.")
    reason = serializers.CharField()
    estimate_seconds = serializers.FloatField(
        allow_null=True, help_text="Worker time this job takes, from measured throughput."
    )
    wait_seconds = serializers.FloatField(allow_null=True, help_text="Roughly, until it starts.")


class InvitationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    team = serializers.IntegerField(source="team_id")
    team_name = serializers.CharField(source="team.name")
    identifier = serializers.CharField(help_text="What the owner typed.")
    role = serializers.ChoiceField(choices=Role.choices)
    status = serializers.CharField()
    created = serializers.DateTimeField()


class IngredientSerializer(serializers.Serializer):
    profile = serializers.IntegerField(source="profile_id")
    board = serializers.IntegerField(source="profile.board_id")
    version = serializers.IntegerField(source="profile.version")
    cluster = serializers.IntegerField(allow_null=True)
    weight = FiniteFloatField(allow_null=True)


class OutputSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    ok = serializers.BooleanField()
    error = serializers.CharField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    fidelity = FiniteFloatField(allow_null=True)
    content_fidelity = FiniteFloatField(allow_null=True)
    fidelity_gain = FiniteFloatField(allow_null=True)
    delta_e = FiniteFloatField(
        allow_null=True, help_text="What the taste added: mean CIEDE2000 from the content"
    )
    file_url = serializers.SerializerMethodField()

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_file_url(self, output) -> str | None:
        if not output.ok:
            return None
        return absolute(self.context, "api:output_file", output.generation_id, output.index)


class GenerationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    team = serializers.IntegerField(source="team_id")
    backend = serializers.ChoiceField(choices=Backend.choices)
    backend_reason = serializers.CharField(help_text="Why this backend ran (auto's choice).")
    strength = FiniteFloatField(allow_null=True)
    colour = FiniteFloatField(allow_null=True)
    tone = FiniteFloatField(allow_null=True)
    texture = FiniteFloatField(allow_null=True)
    count = serializers.IntegerField()
    cohesion = FiniteFloatField(allow_null=True)
    seed = serializers.IntegerField()
    prompt = serializers.CharField()
    negative_prompt = serializers.CharField()
    status = serializers.ChoiceField(choices=GenerationStatus.choices)
    done = serializers.IntegerField()
    percent = serializers.IntegerField()
    error = serializers.CharField(help_text="Why it failed, when no image could be made.")
    created = serializers.DateTimeField()
    started = serializers.DateTimeField(allow_null=True)
    finished = serializers.DateTimeField(allow_null=True)
    ingredients = IngredientSerializer(many=True)
    outputs = OutputSerializer(many=True)
    queue = serializers.SerializerMethodField(
        help_text="While queued: what it waits for (e.g. your other jobs) and estimates."
    )
    status_url = serializers.SerializerMethodField()

    def get_status_url(self, generation) -> str:
        return absolute(self.context, "api:generation_detail", generation.pk)

    @extend_schema_field(QueueSerializer(allow_null=True))
    def get_queue(self, generation) -> dict | None:
        from generation.scheduling import queue_state

        state = queue_state(generation)
        return state.as_dict() if state else None
