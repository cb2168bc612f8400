from django.urls import path, re_path

from . import errors, views

app_name = "api"

SCHEMA_SETTINGS = {
    "TITLE": "Tastebase API",
    "DESCRIPTION": (
        "Everything a user does in the browser, for scripts: boards, uploads, analyses, "
        "taste profiles, generations and exports. Authenticate with a personal token from "
        "/api/tokens/ (`Authorization: Bearer tb_…`). Every 4xx answers "
        '`{"error": {"code", "message", "details"?}}`.'
    ),
    "VERSION": "1.0.0",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api",
}

urlpatterns = [
    path("tokens/", views.tokens_page, name="tokens"),
    path("tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path(
        "schema/",
        views.SchemaView.as_view(custom_settings=SCHEMA_SETTINGS),
        name="schema",
    ),
    path("docs/", views.SwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", views.RedocView.as_view(url_name="api:schema"), name="redoc"),
    path("me/", views.MeView.as_view(), name="me"),
    path("teams/", views.TeamListView.as_view(), name="team_list"),
    path("teams/<int:team_id>/", views.TeamDetailView.as_view(), name="team_detail"),
    path("teams/<int:team_id>/members/", views.MemberListView.as_view(), name="member_list"),
    path(
        "teams/<int:team_id>/members/<int:membership_id>/",
        views.MemberDetailView.as_view(),
        name="member_detail",
    ),
    path("invitations/", views.InvitationListView.as_view(), name="invitation_list"),
    path(
        "invitations/<int:invitation_id>/accept/",
        views.InvitationAcceptView.as_view(),
        name="invitation_accept",
    ),
    path(
        "invitations/<int:invitation_id>/decline/",
        views.InvitationDeclineView.as_view(),
        name="invitation_decline",
    ),
    path("boards/", views.BoardListView.as_view(), name="board_list"),
    path("boards/<int:board_id>/", views.BoardDetailView.as_view(), name="board_detail"),
    path("boards/<int:board_id>/images/", views.BoardImageListView.as_view(), name="board_images"),
    path("boards/<int:board_id>/reorder/", views.BoardReorderView.as_view(), name="board_reorder"),
    path(
        "boards/<int:board_id>/images/<int:image_id>/",
        views.ImageDetailView.as_view(),
        name="image_detail",
    ),
    path(
        "boards/<int:board_id>/images/<int:image_id>/tags/",
        views.ImageTagsView.as_view(),
        name="image_tags",
    ),
    path(
        "boards/<int:board_id>/images/<int:image_id>/<str:kind>/",
        views.ImageFileView.as_view(),
        name="image_file",
    ),
    path(
        "boards/<int:board_id>/analyses/",
        views.BoardAnalysisListView.as_view(),
        name="board_analyses",
    ),
    path("analyses/<int:analysis_id>/", views.AnalysisDetailView.as_view(), name="analysis_detail"),
    path("boards/<int:board_id>/profiles/", views.ProfileListView.as_view(), name="profile_list"),
    path(
        "boards/<int:board_id>/profiles/<int:version>/",
        views.ProfileDetailView.as_view(),
        name="profile_detail",
    ),
    path(
        "boards/<int:board_id>/profiles/<int:version>/exports/<str:name>",
        views.ProfileExportView.as_view(),
        name="profile_export",
    ),
    path("search/similar/", views.SimilarView.as_view(), name="search_similar"),
    path("search/keyword/", views.KeywordSearchView.as_view(), name="search_keyword"),
    path("search/colour/", views.ColourSearchView.as_view(), name="search_colour"),
    path("profiles/<str:ref>/", views.ProfileRefView.as_view(), name="profile_ref"),
    path("profiles/<str:ref>/rank/", views.RankView.as_view(), name="profile_rank"),
    path("profiles/<str:ref>/more/", views.MoreLikeView.as_view(), name="profile_more"),
    path("profiles/<str:ref>/off-taste/", views.OffTasteView.as_view(), name="profile_off_taste"),
    path("profiles/<str:ref>/steer/", views.SteerView.as_view(), name="profile_steer"),
    path("generations/", views.GenerationListView.as_view(), name="generation_list"),
    path(
        "generations/<int:generation_id>/",
        views.GenerationDetailView.as_view(),
        name="generation_detail",
    ),
    path(
        "generations/<int:generation_id>/rerun/",
        views.GenerationRerunView.as_view(),
        name="generation_rerun",
    ),
    path(
        "generations/<int:generation_id>/outputs/<int:index>/",
        views.OutputFileView.as_view(),
        name="output_file",
    ),
    path(
        "generations/<int:generation_id>/outputs/<int:index>/upscale/",
        views.OutputUpscaleView.as_view(),
        name="output_upscale",
    ),
    # Anything else under /api/ answers with the same JSON error body.
    re_path(r"^.*$", errors.not_found),
]
