from django.urls import path

from . import search_views, views

urlpatterns = [
    path("search/", search_views.search_page, name="search"),
    path("search/rank/", search_views.rank_results, name="rank_results"),
    path("search/steer/", search_views.profile_steer_by_code, name="profile_steer_by_code"),
    path(
        "boards/<int:board_id>/profiles/<int:version>/rank/",
        search_views.profile_rank,
        name="profile_rank",
    ),
    path(
        "boards/<int:board_id>/profiles/<int:version>/steer/",
        search_views.profile_steer,
        name="profile_steer",
    ),
    path(
        "boards/<int:board_id>/images/<int:image_id>/tags/",
        search_views.image_tag,
        name="image_tag",
    ),
    path("boards/<int:board_id>/analyze/", views.analysis_start, name="analysis_start"),
    path(
        "boards/<int:board_id>/analyses/<int:analysis_id>/",
        views.analysis_detail,
        name="analysis_detail",
    ),
    path(
        "boards/<int:board_id>/analyses/<int:analysis_id>/status/",
        views.analysis_status,
        name="analysis_status",
    ),
    path(
        "boards/<int:board_id>/profiles/<int:version>/", views.profile_detail, name="profile_detail"
    ),
    path(
        "boards/<int:board_id>/profiles/<int:version>/json/",
        views.profile_json,
        name="profile_json",
    ),
    path(
        "boards/<int:board_id>/profiles/<int:version>/compare/",
        views.profile_compare,
        name="profile_compare",
    ),
    path(
        "boards/<int:board_id>/profiles/<int:version>/card/<str:name>",
        views.profile_card,
        name="profile_card",
    ),
    path(
        "boards/<int:board_id>/profiles/<int:version>/export/<str:name>",
        views.profile_export,
        name="profile_export",
    ),
]
