"""The one way views fetch generations and outputs: through the team's roles."""

from __future__ import annotations

from django.http import Http404

from moodboards.access import User, check_role, role_in_team
from moodboards.models import Role

from .models import Generation, Output


def generation_for_user(
    user: User, generation_id: int, *, need: Role = Role.VIEWER
) -> tuple[Generation, Role]:
    generation = Generation.objects.select_related("team").filter(pk=generation_id).first()
    role = role_in_team(user, generation.team_id) if generation else None
    check_role(role, need)
    return generation, role


def output_for_user(
    user: User, generation_id: int, index: int, *, need: Role = Role.VIEWER
) -> tuple[Output, Role]:
    generation, role = generation_for_user(user, generation_id, need=need)
    output = Output.objects.filter(generation=generation, index=index).first()
    if output is None or not output.file:
        raise Http404("Not found")
    output.generation = generation
    return output, role
