"""The REST API, one module per resource. Every fetch goes through the access helpers,
every write through a service: the same rules and the same code paths as the pages.

Base classes set authentication, permissions, throttles, pagination and the error
handler explicitly, so the API behaves the same whatever REST_FRAMEWORK says.
"""

from .boards import (
    BoardDetailView,
    BoardImageListView,
    BoardListView,
    BoardReorderView,
    ImageDetailView,
    ImageFileView,
)
from .generations import (
    GenerationDetailView,
    GenerationListView,
    GenerationRerunView,
    OutputFileView,
    OutputUpscaleView,
)
from .pages import RedocView, SchemaView, SwaggerView, token_revoke, tokens_page
from .profiles import (
    AnalysisDetailView,
    BoardAnalysisListView,
    ProfileDetailView,
    ProfileExportView,
    ProfileListView,
)
from .teams import (
    InvitationAcceptView,
    InvitationDeclineView,
    InvitationListView,
    MemberDetailView,
    MemberListView,
    MeView,
    TeamDetailView,
    TeamListView,
)

__all__ = [
    "AnalysisDetailView",
    "BoardAnalysisListView",
    "BoardDetailView",
    "BoardImageListView",
    "BoardListView",
    "BoardReorderView",
    "GenerationDetailView",
    "GenerationListView",
    "GenerationRerunView",
    "ImageDetailView",
    "ImageFileView",
    "InvitationAcceptView",
    "InvitationDeclineView",
    "InvitationListView",
    "MeView",
    "MemberDetailView",
    "MemberListView",
    "OutputFileView",
    "OutputUpscaleView",
    "ProfileDetailView",
    "ProfileExportView",
    "ProfileListView",
    "RedocView",
    "SchemaView",
    "SwaggerView",
    "TeamDetailView",
    "TeamListView",
    "token_revoke",
    "tokens_page",
]
