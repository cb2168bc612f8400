"""Team pages: members, roles and invitations. Every fetch goes through `access`; every
write through `services`."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from . import access, selectors, services
from .forms import InviteForm, RoleForm, TeamForm
from .models import Role
from .views import _error_text


@login_required
@require_POST
def team_create(request: HttpRequest) -> HttpResponse:
    form = TeamForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the team a name.")
        return redirect("home")
    team = services.team_create(user=request.user, name=form.cleaned_data["name"])
    messages.success(request, f"Team “{team.name}” created. Invite people below.")
    return redirect(team)


@login_required
@require_GET
def team_detail(request: HttpRequest, team_id: int) -> HttpResponse:
    team, role = access.team_for_user(request.user, team_id)
    ctx = {
        "team": team,
        "role": role,
        "can_manage": access.can(role, Role.OWNER),
        "members": selectors.members_of(team),
        "boards": team.boards.filter(archived_at__isnull=True),
        "invite_form": InviteForm(),
        "roles": Role.choices,
        "pending": selectors.pending_invitations_of(team) if access.can(role, Role.OWNER) else [],
    }
    return render(request, "moodboards/team_detail.html", ctx)


@login_required
@require_POST
def team_invite(request: HttpRequest, team_id: int) -> HttpResponse:
    """Invite by username or email. Nobody joins until they accept; the answer is the
    same whether or not an account has that name or address."""
    team, _ = access.team_for_user(request.user, team_id, need=Role.OWNER)
    form = InviteForm(request.POST)
    if form.is_valid():
        identifier = form.cleaned_data["identifier"].strip()
        try:
            services.team_invite(
                team=team,
                identifier=identifier,
                role=Role(form.cleaned_data["role"]),
                invited_by=request.user,
            )
            messages.success(request, services.INVITE_SENT.format(identifier=identifier))
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
    else:
        messages.error(request, "Enter a username or email and a role.")
    return redirect(team)


@login_required
@require_POST
def team_invitation_revoke(request: HttpRequest, team_id: int, invitation_id: int) -> HttpResponse:
    invitation = access.invitation_for_owner(request.user, team_id, invitation_id)
    try:
        services.invitation_revoke(invitation=invitation)
        messages.success(request, f"The invitation to “{invitation.identifier}” is withdrawn.")
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    return redirect(invitation.team)


@login_required
@require_GET
def invitations(request: HttpRequest) -> HttpResponse:
    """Invitations to join teams, waiting for this user's answer."""
    ctx = {"invitations": selectors.pending_invitations_for(request.user)}
    return render(request, "moodboards/invitations.html", ctx)


@login_required
@require_POST
def invitation_answer(request: HttpRequest, invitation_id: int) -> HttpResponse:
    invitation = access.invitation_for_invitee(request.user, invitation_id)
    accept = request.POST.get("answer") == "accept"
    try:
        if accept:
            services.invitation_accept(invitation=invitation, user=request.user)
            messages.success(
                request,
                f"You joined {invitation.team.name} as {invitation.get_role_display().lower()}.",
            )
            return redirect(invitation.team)
        services.invitation_decline(invitation=invitation, user=request.user)
        messages.success(request, f"You declined the invitation to {invitation.team.name}.")
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    return redirect("invitations")


@login_required
@require_POST
def team_member_role(request: HttpRequest, team_id: int, membership_id: int) -> HttpResponse:
    membership, _ = access.membership_for_user(
        request.user, team_id, membership_id, need=Role.OWNER
    )
    team = membership.team
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            services.membership_set_role(
                membership=membership, role=Role(form.cleaned_data["role"])
            )
            messages.success(
                request,
                f"{membership.user.get_username()} is now {membership.get_role_display().lower()}.",
            )
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
    return redirect(team)


@login_required
@require_POST
def team_member_remove(request: HttpRequest, team_id: int, membership_id: int) -> HttpResponse:
    membership, role = access.membership_for_user(request.user, team_id, membership_id)
    team = membership.team
    access.check_can_remove_member(request.user, role, membership)
    try:
        services.membership_remove(membership=membership)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return redirect(team)
    if membership.user_id == request.user.pk:
        messages.success(request, f"You left {team.name}.")
        return redirect("home")
    messages.success(request, f"Removed {membership.user.get_username()}.")
    return redirect(team)
