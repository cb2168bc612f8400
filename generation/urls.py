from django.urls import path

from . import views

urlpatterns = [
    path("generate/", views.generation_new, name="generation_new"),
    path(
        "boards/<int:board_id>/images/<int:image_id>/upscale/",
        views.board_image_upscale,
        name="board_image_upscale",
    ),
    path("generate/preview/", views.preview, name="generation_preview"),
    path("status/", views.server_status, name="server_status"),
    path("generations/", views.generation_list, name="generation_list"),
    path("generations/<int:generation_id>/", views.generation_detail, name="generation_detail"),
    path(
        "generations/<int:generation_id>/status/", views.generation_status, name="generation_status"
    ),
    path("generations/<int:generation_id>/rerun/", views.generation_rerun, name="generation_rerun"),
    path(
        "generations/<int:generation_id>/delete/",
        views.generation_delete,
        name="generation_delete",
    ),
    path(
        "generations/<int:generation_id>/outputs/<int:index>/",
        views.output_file,
        name="output_file",
    ),
    path(
        "generations/<int:generation_id>/outputs/<int:index>/upscale/",
        views.output_upscale,
        name="output_upscale",
    ),
]
