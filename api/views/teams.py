"""The API: you, your teams and their members."""

from __future__ import annotations

from rest_framework import status
from rest_framework.response import Response

from moodboards import access, services
from moodboards.models import Role
from moodboards.selectors import members_of, pending_invitations_for, teams_for_user

from .. import selectors
from .. import serializers as s
from ..schema import api_schema
from .base import (
    ApiListView,
    ApiView,
)

# --- me and teams -----------------------------------------------------------------------------


class MeView(ApiView):
    @api_schema(responses=s.MeSerializer, summary="The user the token belongs to")
    def get(self, request):
        return Response(s.MeSerializer(request.user).data)


class TeamListView(ApiListView):
    serializer_class = s.TeamSerializer

    def get_queryset(self):
        services.personal_team_for(self.request.user)
        return teams_for_user(self.request.user)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "roles": selectors.roles_of(self.request.user)}

    @api_schema(summary="Your teams, your private space first")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @api_schema(
        request=s.TeamCreateSerializer,
        responses={201: s.TeamSerializer},
        summary="Create a team (you become its owner)",
    )
    def post(self, request):
        body = s.TeamCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        team = services.team_create(user=request.user, name=body.validated_data["name"])
        data = s.TeamSerializer(team, context={"roles": {team.pk: Role.OWNER}}).data
        return Response(data, status=status.HTTP_201_CREATED)


class TeamDetailView(ApiView):
    @api_schema(responses=s.TeamSerializer, summary="One team")
    def get(self, request, team_id: int):
        team, role = access.team_for_user(request.user, team_id)
        return Response(s.TeamSerializer(team, context={"roles": {team.pk: role}}).data)


class MemberListView(ApiListView):
    serializer_class = s.MemberSerializer

    def get_queryset(self):
        team, _ = access.team_for_user(self.request.user, self.kwargs["team_id"])
        return members_of(team)

    @api_schema(summary="Members of a team and their roles (any member)")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @api_schema(
        request=s.InviteSerializer,
        responses={202: s.InvitationSerializer},
        summary="Invite someone by username or email (owners); they join when they accept",
        description=(
            "Nobody is added to a team without accepting. The answer is the same whether or "
            "not an account has that username or email; the invited user sees the invitation "
            "at `GET /api/invitations/` (and on their Invitations page)."
        ),
    )
    def post(self, request, team_id: int):
        team, _ = access.team_for_user(request.user, team_id, need=Role.OWNER)
        body = s.InviteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        invitation = services.team_invite(
            team=team,
            identifier=body.validated_data["identifier"],
            role=Role(body.validated_data["role"]),
            invited_by=request.user,
        )
        return Response(s.InvitationSerializer(invitation).data, status=status.HTTP_202_ACCEPTED)


class MemberDetailView(ApiView):
    @api_schema(
        request=s.RoleSerializer, responses=s.MemberSerializer, summary="Change a role (owners)"
    )
    def patch(self, request, team_id: int, membership_id: int):
        membership, _ = access.membership_for_user(
            request.user, team_id, membership_id, need=Role.OWNER
        )
        body = s.RoleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.membership_set_role(membership=membership, role=Role(body.validated_data["role"]))
        return Response(s.MemberSerializer(membership).data)

    @api_schema(responses={204: None}, summary="Remove a member (owners), or leave a team")
    def delete(self, request, team_id: int, membership_id: int):
        membership, role = access.membership_for_user(request.user, team_id, membership_id)
        access.check_can_remove_member(request.user, role, membership)
        services.membership_remove(membership=membership)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- invitations: answered by the invited user -------------------------------------------------


class InvitationListView(ApiListView):
    serializer_class = s.InvitationSerializer

    def get_queryset(self):
        return pending_invitations_for(self.request.user)

    @api_schema(summary="Invitations to join teams, waiting for your answer")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class InvitationAnswerView(ApiView):
    accept = True

    @api_schema(request=None, responses={200: s.InvitationSerializer})
    def post(self, request, invitation_id: int):
        invitation = access.invitation_for_invitee(request.user, invitation_id)
        if self.accept:
            services.invitation_accept(invitation=invitation, user=request.user)
        else:
            services.invitation_decline(invitation=invitation, user=request.user)
        return Response(s.InvitationSerializer(invitation).data)


class InvitationAcceptView(InvitationAnswerView):
    """Accept: you join the team with the invitation's role."""

    accept = True


class InvitationDeclineView(InvitationAnswerView):
    """Decline: nothing changes, and the invitation is closed."""

    accept = False
