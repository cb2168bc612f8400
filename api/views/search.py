"""The API: taste search, ranking by fit, tags, steering and profile codes.

Every image these endpoints return was found among the caller's visible images (the
services filter by `taste.search.visible_images`); every board, image and profile named
in a request is fetched through the access helpers (a stranger gets 404).
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers, status
from rest_framework.response import Response

from moodboards import access
from moodboards.models import Role
from taste import search as taste_search
from taste import steering, tags
from taste.access import profile_by_ref_for_user
from taste.search_index import backend_name

from ..schema import api_schema
from ..serializers import MAX_ID, FiniteFloatField, absolute
from .base import ApiView

MAX_RANK_IMAGES = 500
MAX_RANK_FILES = 50


class HitSerializer(serializers.Serializer):
    image = serializers.IntegerField(source="image.pk")
    board = serializers.IntegerField(source="image.board_id")
    name = serializers.CharField(source="image.original_name")
    score = serializers.FloatField(help_text="0-1: how close in style (or fit).")
    agree = serializers.ListField(child=serializers.CharField())
    disagree = serializers.ListField(child=serializers.CharField())
    sub_style = serializers.IntegerField(allow_null=True)
    thumbnail_url = serializers.SerializerMethodField()

    def get_thumbnail_url(self, hit) -> str:
        return absolute(self.context, "api:image_file", hit.image.board_id, hit.image.pk, "thumb")


def _hits(view, hits) -> Response:
    return Response(
        {
            "backend": backend_name(),
            "results": HitSerializer(hits, many=True, context=view.ctx()).data,
        }
    )


def _query(request, serializer_class):
    body = serializer_class(data=request.query_params)
    body.is_valid(raise_exception=True)
    return body.validated_data


class _Paging(serializers.Serializer):
    limit = serializers.IntegerField(required=False, default=24, min_value=1, max_value=200)
    min_score = FiniteFloatField(required=False, default=0.0, min_value=0.0, max_value=1.0)


class SimilarQuery(_Paging):
    image = serializers.IntegerField(min_value=1, max_value=MAX_ID)


class KeywordQuery(serializers.Serializer):
    q = serializers.CharField(max_length=60)
    limit = serializers.IntegerField(required=False, default=48, min_value=1, max_value=200)


class ColourQuery(serializers.Serializer):
    hex = serializers.RegexField(r"^#?[0-9a-fA-F]{6}$", help_text="e.g. c0392b")
    delta_e = FiniteFloatField(required=False, default=10.0, min_value=0.1, max_value=50.0)
    limit = serializers.IntegerField(required=False, default=48, min_value=1, max_value=200)


class SubStyleQuery(_Paging):
    cluster = serializers.IntegerField(min_value=0, max_value=1000)


PAGING = [
    OpenApiParameter("limit", int, description="1-200 results."),
    OpenApiParameter("min_score", float, description="Leave out results scoring below (0-1)."),
]


class SimilarView(ApiView):
    @api_schema(
        parameters=[OpenApiParameter("image", int, required=True), *PAGING],
        responses=OpenApiTypes.OBJECT,
        summary="Images you can see that look like one image, by style, with a score",
    )
    def get(self, request):
        q = _query(request, SimilarQuery)
        image = access.image_by_id_for_user(request.user, q["image"])
        hits = taste_search.similar_to_image(
            user=request.user, image=image, limit=q["limit"], min_score=q["min_score"]
        )
        return _hits(self, hits)


class KeywordSearchView(ApiView):
    @api_schema(
        parameters=[OpenApiParameter("q", str, required=True, description="A keyword or tag.")],
        responses=OpenApiTypes.OBJECT,
        summary="Images you can see that carry a keyword (measured, medium or tagged)",
    )
    def get(self, request):
        q = _query(request, KeywordQuery)
        return _hits(self, tags.search_keyword(user=request.user, term=q["q"], limit=q["limit"]))


class ColourSearchView(ApiView):
    @api_schema(
        parameters=[
            OpenApiParameter("hex", str, required=True, description="A colour, e.g. c0392b."),
            OpenApiParameter("delta_e", float, description="CIEDE2000 tolerance (default 10)."),
        ],
        responses=OpenApiTypes.OBJECT,
        summary="Images you can see with a palette colour near a hex colour",
    )
    def get(self, request):
        q = _query(request, ColourQuery)
        hits = tags.search_colour(
            user=request.user, hex_colour=q["hex"], max_delta_e=q["delta_e"], limit=q["limit"]
        )
        return _hits(self, hits)


# --- profiles by id or code -------------------------------------------------------------------


def profile_json(view, profile) -> dict:
    return {
        "id": profile.pk,
        "code": profile.code,
        "board": profile.board_id,
        "version": profile.version,
        "image_count": profile.image_count,
        "changes": profile.changes,
        "steering": steering.steering_of(profile),
        "url": absolute(view.ctx(), "api:profile_detail", profile.board_id, profile.version),
    }


class ProfileRefView(ApiView):
    @api_schema(
        responses=OpenApiTypes.OBJECT,
        summary="A profile version by id or short code (tb-…): where it lives, its steering",
    )
    def get(self, request, ref: str):
        return Response(profile_json(self, profile_by_ref_for_user(request.user, ref)))


class RankBody(serializers.Serializer):
    images = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False, max_length=MAX_RANK_IMAGES,
        help_text="Board image ids to rank (any you can see).",
    )  # fmt: skip
    board = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    cluster = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=1000)


class RankView(ApiView):
    @api_schema(
        request=RankBody,
        responses=OpenApiTypes.OBJECT,
        summary="Rank images by fit to a profile version or one sub-style, best first, with why",
        description=(
            "Rank `images` (ids), a whole `board`, or image files uploaded as multipart "
            f"`files` (up to {MAX_RANK_FILES}; nothing is stored). Each result has its score "
            "and the profile's measured keywords it agrees and disagrees with."
        ),
    )
    def post(self, request, ref: str):
        profile = profile_by_ref_for_user(request.user, ref)
        files = request.FILES.getlist("files") if hasattr(request, "FILES") else []
        body = RankBody(
            data=request.data if not files else {"cluster": request.data.get("cluster")}
        )
        body.is_valid(raise_exception=True)
        cluster = body.validated_data.get("cluster")
        if files:
            return Response({"results": _rank_files(profile, cluster, files)})
        if "board" in body.validated_data:
            board, _ = access.board_for_user(request.user, body.validated_data["board"])
            images = list(board.images.filter(status="ready")[:MAX_RANK_IMAGES])
        elif body.validated_data.get("images"):
            images = [
                access.image_by_id_for_user(request.user, pk)
                for pk in dict.fromkeys(body.validated_data["images"])
            ]
        else:
            raise serializers.ValidationError("Give `images`, a `board` or `files` to rank.")
        return _hits(
            self, taste_search.rank_images(profile=profile, images=images, cluster=cluster)
        )


def _rank_files(profile, cluster, files) -> list[dict]:
    from PIL import Image, ImageOps, UnidentifiedImageError

    if len(files) > MAX_RANK_FILES:
        raise serializers.ValidationError(f"Rank at most {MAX_RANK_FILES} files at a time.")
    named, rejected = [], []
    for upload in files:
        try:
            with Image.open(upload) as im:
                if im.width * im.height > 80_000_000:
                    raise ValueError("too many pixels")
                named.append((upload.name, ImageOps.exif_transpose(im).convert("RGB")))
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
            rejected.append(upload.name)
    if rejected:
        raise serializers.ValidationError(
            {"files": [f"Not a readable image: {', '.join(rejected)}"]}
        )
    ranked = taste_search.rank_pil_images(profile=profile, named=named, cluster=cluster)
    return [
        {"name": n, "score": s, "sub_style": c, "agree": a, "disagree": d}
        for n, s, c, a, d in ranked
    ]


class MoreLikeView(ApiView):
    @api_schema(
        parameters=[OpenApiParameter("cluster", int, required=True), *PAGING],
        responses=OpenApiTypes.OBJECT,
        summary="More like this sub-style, from everything you can see",
    )
    def get(self, request, ref: str):
        profile = profile_by_ref_for_user(request.user, ref)
        q = _query(request, SubStyleQuery)
        hits = taste_search.more_like_sub_style(
            user=request.user, profile=profile, cluster=q["cluster"],
            limit=q["limit"], min_score=q["min_score"],
        )  # fmt: skip
        return _hits(self, hits)


class OffTasteView(ApiView):
    @api_schema(
        responses=OpenApiTypes.OBJECT,
        summary="The board's images that don't fit this profile version, worst first",
    )
    def get(self, request, ref: str):
        profile = profile_by_ref_for_user(request.user, ref)
        return _hits(self, taste_search.off_taste(profile=profile, board=profile.board))


class SteerBody(serializers.Serializer):
    weights = serializers.DictField(
        child=FiniteFloatField(min_value=-2.0, max_value=2.0), required=False,
        help_text="Image key (id) -> weight, -2..2; 0 leaves it out, below 0 pushes away.",
    )  # fmt: skip
    exclude = serializers.ListField(
        child=serializers.CharField(max_length=20), required=False, max_length=1000
    )
    negative_images = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        max_length=500,
    )
    negative_boards = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), required=False, max_length=20
    )
    negative_weight = FiniteFloatField(
        required=False, default=-1.0, min_value=-2.0, max_value=-0.01
    )
    pin = serializers.ListField(
        child=serializers.CharField(max_length=60), required=False, max_length=20
    )
    unpin = serializers.ListField(
        child=serializers.CharField(max_length=60), required=False, max_length=20
    )
    ban = serializers.ListField(
        child=serializers.CharField(max_length=60), required=False, max_length=20
    )
    unban = serializers.ListField(
        child=serializers.CharField(max_length=60), required=False, max_length=20
    )


class SteerView(ApiView):
    @api_schema(
        request=SteerBody,
        responses={201: OpenApiTypes.OBJECT},
        summary="Steer a profile version (editors): a new version recording the change",
    )
    def post(self, request, ref: str):
        profile = profile_by_ref_for_user(request.user, ref)
        access.board_for_user(request.user, profile.board_id, need=Role.EDITOR)
        body = SteerBody(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        negative_images = [
            access.image_by_id_for_user(request.user, pk) for pk in data.get("negative_images", [])
        ]
        negative_boards = [
            access.board_for_user(request.user, pk)[0] for pk in data.get("negative_boards", [])
        ]
        steered = steering.profile_steer(
            profile=profile, user=request.user, weights=data.get("weights"),
            exclude=data.get("exclude", []), negative_images=negative_images,
            negative_boards=negative_boards, negative_weight=data["negative_weight"],
            pin=data.get("pin", []), unpin=data.get("unpin", []),
            ban=data.get("ban", []), unban=data.get("unban", []),
        )  # fmt: skip
        return Response(profile_json(self, steered), status=status.HTTP_201_CREATED)


# --- tags ---------------------------------------------------------------------------------


class TagBody(serializers.Serializer):
    term = serializers.CharField(max_length=60)


class ImageTagsView(ApiView):
    @api_schema(responses=OpenApiTypes.OBJECT, summary="An image's tags: measured and manual")
    def get(self, request, board_id: int, image_id: int):
        image, _ = access.image_for_user(request.user, board_id, image_id)
        return Response(tags.image_tags(image))

    @api_schema(
        request=TagBody, responses={201: OpenApiTypes.OBJECT}, summary="Tag an image (editors)"
    )
    def post(self, request, board_id: int, image_id: int):
        image, _ = access.image_for_user(request.user, board_id, image_id, need=Role.EDITOR)
        body = TagBody(data=request.data)
        body.is_valid(raise_exception=True)
        tags.tag_add(image=image, user=request.user, term=body.validated_data["term"])
        return Response(tags.image_tags(image), status=status.HTTP_201_CREATED)

    @api_schema(
        request=TagBody, responses=OpenApiTypes.OBJECT, summary="Remove a manual tag (editors)"
    )
    def delete(self, request, board_id: int, image_id: int):
        image, _ = access.image_for_user(request.user, board_id, image_id, need=Role.EDITOR)
        body = TagBody(data=request.data)
        body.is_valid(raise_exception=True)
        tags.tag_remove(image=image, term=body.validated_data["term"])
        return Response(tags.image_tags(image))
