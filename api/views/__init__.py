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
from .search import (
    ColourSearchView,
    ImageTagsView,
    KeywordSearchView,
    MoreLikeView,
    OffTasteView,
    ProfileRefView,
    RankView,
    SimilarView,
    SteerView,
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
    "ColourSearchView",
    "GenerationDetailView",
    "GenerationListView",
    "GenerationRerunView",
    "ImageDetailView",
    "ImageFileView",
    "ImageTagsView",
    "InvitationAcceptView",
    "InvitationDeclineView",
    "InvitationListView",
    "KeywordSearchView",
    "MeView",
    "MemberDetailView",
    "MemberListView",
    "MoreLikeView",
    "OffTasteView",
    "OutputFileView",
    "OutputUpscaleView",
    "ProfileDetailView",
    "ProfileExportView",
    "ProfileListView",
    "ProfileRefView",
    "RankView",
    "RedocView",
    "SchemaView",
    "SimilarView",
    "SteerView",
    "SwaggerView",
    "TeamDetailView",
    "TeamListView",
    "token_revoke",
    "tokens_page",
]
