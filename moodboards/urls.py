from django.contrib.auth import views as auth_views
from django.urls import path, register_converter

from . import team_views, views


class ImageKindConverter:
    """Only the served renditions: other words after an image URL belong to other views."""

    regex = "thumb|display"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ImageKindConverter, "kind")

urlpatterns = [
    path("", views.home, name="home"),
    path("signup/", views.signup, name="signup"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("boards/new/", views.board_create, name="board_create"),
    path("boards/<int:board_id>/", views.board_detail, name="board_detail"),
    path("boards/<int:board_id>/grid/", views.board_grid, name="board_grid"),
    path("boards/<int:board_id>/edit/", views.board_update, name="board_update"),
    path("boards/<int:board_id>/archive/", views.board_archive, name="board_archive"),
    path("boards/<int:board_id>/delete/", views.board_delete, name="board_delete"),
    path("boards/<int:board_id>/share/", views.board_share, name="board_share"),
    path("boards/<int:board_id>/upload/", views.board_upload, name="board_upload"),
    path("boards/<int:board_id>/reorder/", views.board_reorder, name="board_reorder"),
    path("boards/<int:board_id>/import-url/", views.board_import_url, name="board_import_url"),
    path("boards/<int:board_id>/download.zip", views.board_download, name="board_download"),
    path("boards/<int:board_id>/images/<int:image_id>/", views.image_detail, name="image_detail"),
    path(
        "boards/<int:board_id>/images/<int:image_id>/edit/", views.image_update, name="image_update"
    ),
    path(
        "boards/<int:board_id>/images/<int:image_id>/delete/",
        views.image_delete,
        name="image_delete",
    ),
    path(
        "boards/<int:board_id>/images/<int:image_id>/<kind:kind>/",
        views.image_file,
        name="image_file",
    ),
    path("s/<str:token>/", views.shared_board, name="shared_board"),
    path(
        "s/<str:token>/images/<int:image_id>/<kind:kind>/",
        views.shared_image_file,
        name="shared_image_file",
    ),
    path("teams/new/", team_views.team_create, name="team_create"),
    path("teams/<int:team_id>/", team_views.team_detail, name="team_detail"),
    path("teams/<int:team_id>/invite/", team_views.team_invite, name="team_invite"),
    path(
        "teams/<int:team_id>/invitations/<int:invitation_id>/revoke/",
        team_views.team_invitation_revoke,
        name="team_invitation_revoke",
    ),
    path("invitations/", team_views.invitations, name="invitations"),
    path(
        "invitations/<int:invitation_id>/answer/",
        team_views.invitation_answer,
        name="invitation_answer",
    ),
    path(
        "teams/<int:team_id>/members/<int:membership_id>/role/",
        team_views.team_member_role,
        name="team_member_role",
    ),
    path(
        "teams/<int:team_id>/members/<int:membership_id>/remove/",
        team_views.team_member_remove,
        name="team_member_remove",
    ),
]
