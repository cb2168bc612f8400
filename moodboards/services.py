"""Writes for the boards app: teams, memberships, boards, uploads and images.

Views and tasks call these; nothing else changes board data. Each service leaves
the database and the media storage consistent when it fails half-way.
"""

from __future__ import annotations

import io
import logging
from dataclasses import asdict, dataclass
from typing import IO

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models import Max, ProtectedError
from django.utils import timezone

from config.leases import dispatch
from config.safe_storage import STORAGE_FULL_MESSAGE, is_storage_full

from . import imaging
from .models import (
    Board,
    BoardImage,
    ImageStatus,
    Invitation,
    InvitationStatus,
    Membership,
    Role,
    Team,
    new_share_token,
)
from .signals import image_ready
from .uploads import UploadLimits, expand_upload

log = logging.getLogger(__name__)
User = get_user_model()


class StorageFull(OSError):
    """The media volume is full: the work waits and is retried, nothing is lost."""


# --- users and teams -------------------------------------------------------------


def personal_team_for(user: AbstractBaseUser) -> Team:
    """Every user has a private space; create it the first time it's needed."""
    team = Team.objects.filter(personal_for=user).first()
    if team:
        return team
    with transaction.atomic():
        team, _ = Team.objects.get_or_create(
            personal_for=user, defaults={"name": f"{user.get_username()}'s space"}
        )
        Membership.objects.get_or_create(team=team, user=user, defaults={"role": Role.OWNER})
    return team


def user_signup(*, username: str, email: str, password: str) -> AbstractBaseUser:
    """A new account with its private space. Emails are unique whatever their case (a
    database index; the signup form says so first): two signups racing for one address
    can't both get it."""
    try:
        with transaction.atomic():
            user = User.objects.create_user(username=username, email=email, password=password)
            personal_team_for(user)
    except IntegrityError:
        raise ValidationError("An account with that username or email already exists.") from None
    return user


def team_create(*, user: AbstractBaseUser, name: str) -> Team:
    team = Team(name=name.strip())
    team.full_clean()
    with transaction.atomic():
        team.save()
        Membership.objects.create(team=team, user=user, role=Role.OWNER)
    return team


def find_user(identifier: str) -> AbstractBaseUser | None:
    """A user by username, or by email (unique, whatever its case)."""
    identifier = identifier.strip()
    if not identifier:
        return None
    user = User.objects.filter(username__iexact=identifier).first()
    if user:
        return user
    matches = list(User.objects.filter(email__iexact=identifier)[:2])
    return matches[0] if len(matches) == 1 else None


def membership_add(*, team: Team, user: AbstractBaseUser, role: Role) -> Membership:
    """Put a user in a team directly: what accepting an invitation does (and the demo
    seed, tests and scripts run by an administrator). Never from a page or API call
    that another user makes: joining a team needs the user's consent."""
    if team.is_personal:
        raise ValidationError("A personal space can't have members. Create a team to share.")
    membership, created = Membership.objects.get_or_create(
        team=team, user=user, defaults={"role": role}
    )
    if created:
        membership.full_clean()
    return membership


INVITE_SENT = (
    "Invitation to “{identifier}” recorded. If an account has that username or email, "
    "its owner sees the invitation on their Invitations page and joins once they accept."
)


def team_invite(
    *, team: Team, identifier: str, role: Role, invited_by: AbstractBaseUser | None = None
) -> Invitation:
    """Offer a role in the team to whoever has this username or email.

    Nobody is added: the invitation waits for the invited user to accept it. The owner
    gets the same answer whether or not an account matches (INVITE_SENT), so the form
    can't be used to find out which addresses have accounts; an identifier that matches
    no account makes an invitation nobody will ever see."""
    if team.is_personal:
        raise ValidationError("A personal space can't have members. Create a team to share.")
    identifier = identifier.strip()
    if not identifier:
        raise ValidationError("Enter a username or email.")
    if role not in Role.values:
        raise ValidationError("Unknown role.")
    user = find_user(identifier)
    if user is not None and Membership.objects.filter(team=team, user=user).exists():
        # Members (and their addresses) are listed on the team page already.
        raise ValidationError(f"“{identifier}” is already a member of {team.name}.")
    key = identifier.lower()
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update()
            .filter(team=team, identifier=key, status=InvitationStatus.PENDING)
            .first()
        )
        if invitation is not None:  # inviting again: the new role, one invitation
            invitation.role = role
            invitation.invited_by = invited_by
            invitation.save(update_fields=["role", "invited_by"])
            return invitation
        invitation = Invitation(
            team=team, identifier=key, user=user, role=role, invited_by=invited_by
        )
        invitation.full_clean()
        invitation.save()
    return invitation


def _respond(invitation: Invitation, status: InvitationStatus) -> bool:
    """Close a pending invitation; False when it was not pending any more (someone
    answered or revoked it first)."""
    return bool(
        Invitation.objects.filter(pk=invitation.pk, status=InvitationStatus.PENDING).update(
            status=status, responded_at=timezone.now()
        )
    )


def invitation_accept(*, invitation: Invitation, user: AbstractBaseUser) -> Membership:
    """The invited user says yes: they join with the invitation's role."""
    if invitation.user_id != user.pk:
        raise ValidationError("This invitation is for someone else.")
    with transaction.atomic():
        if not _respond(invitation, InvitationStatus.ACCEPTED):
            raise ValidationError("This invitation was answered or withdrawn already.")
        invitation.status = InvitationStatus.ACCEPTED
        return membership_add(team=invitation.team, user=user, role=Role(invitation.role))


def invitation_decline(*, invitation: Invitation, user: AbstractBaseUser) -> None:
    if invitation.user_id != user.pk:
        raise ValidationError("This invitation is for someone else.")
    if not _respond(invitation, InvitationStatus.DECLINED):
        raise ValidationError("This invitation was answered or withdrawn already.")
    invitation.status = InvitationStatus.DECLINED


def invitation_revoke(*, invitation: Invitation) -> None:
    """An owner withdraws an invitation nobody has answered."""
    if not _respond(invitation, InvitationStatus.REVOKED):
        raise ValidationError("This invitation was answered already.")
    invitation.status = InvitationStatus.REVOKED


def _owners_left(team: Team, excluding: Membership) -> int:
    return team.memberships.filter(role=Role.OWNER).exclude(pk=excluding.pk).count()


def membership_set_role(*, membership: Membership, role: Role) -> Membership:
    if membership.role == Role.OWNER and role != Role.OWNER:
        with transaction.atomic():
            # Lock the team's memberships so two demotions can't both pass the check.
            list(Membership.objects.select_for_update().filter(team=membership.team_id))
            if _owners_left(membership.team, membership) == 0:
                raise ValidationError("A team needs at least one owner.")
            membership.role = role
            membership.save(update_fields=["role"])
        return membership
    membership.role = role
    membership.full_clean()
    membership.save(update_fields=["role"])
    return membership


def membership_remove(*, membership: Membership) -> None:
    if membership.team.is_personal:
        raise ValidationError("You can't leave your personal space.")
    with transaction.atomic():
        list(Membership.objects.select_for_update().filter(team=membership.team_id))
        if membership.role == Role.OWNER and _owners_left(membership.team, membership) == 0:
            raise ValidationError("A team needs at least one owner.")
        membership.delete()


# --- boards ----------------------------------------------------------------------


def board_create(*, team: Team, user: AbstractBaseUser, title: str, description: str = "") -> Board:
    board = Board(team=team, created_by=user, title=title.strip(), description=description.strip())
    board.full_clean()
    board.save()
    return board


def board_update(*, board: Board, title: str, description: str) -> Board:
    board.title = title.strip()
    board.description = description.strip()
    board.full_clean()
    board.save(update_fields=["title", "description", "updated"])
    return board


def board_set_archived(*, board: Board, archived: bool) -> Board:
    board.archived_at = timezone.now() if archived else None
    board.save(update_fields=["archived_at", "updated"])
    return board


def _delete_files_after_commit(names: list[str]) -> None:
    # Files go only once the rows are gone for good: a rolled-back delete keeps both.
    def delete() -> None:
        for name in names:
            try:
                default_storage.delete(name)
            except OSError:
                log.warning("Could not delete %s; it is orphaned", name, exc_info=True)

    transaction.on_commit(delete)


def _file_names(images: list[BoardImage]) -> list[str]:
    return [
        f.name for image in images for f in (image.original, image.display, image.thumbnail) if f
    ]


def board_delete(*, board: Board) -> None:
    """Delete the board, its images and profiles. Refused (ValidationError, nothing
    deleted) while generations keep one of its profile versions in their recipes: those
    records are the team's, and deleting the board must not take them away."""
    try:
        with transaction.atomic():
            names = _file_names(list(board.images.all()))
            board.delete()
            _delete_files_after_commit(names)
    except ProtectedError as exc:
        runs = {getattr(obj, "generation_id", obj.pk) for obj in exc.protected_objects}
        raise ValidationError(
            f"“{board.title}” can't be deleted: {len(runs)} generation"
            f"{'s use' if len(runs) != 1 else ' uses'} one of its taste profiles. Delete "
            "those generations first, or archive the board to keep everything."
        ) from None


def board_share_enable(*, board: Board) -> Board:
    """A new secret link; any earlier link stops working."""
    board.share_token = new_share_token()
    board.save(update_fields=["share_token", "updated"])
    return board


def board_share_revoke(*, board: Board) -> Board:
    board.share_token = None
    board.save(update_fields=["share_token", "updated"])
    return board


# --- uploads ---------------------------------------------------------------------


@dataclass(frozen=True)
class UploadResult:
    name: str
    status: str  # "added" | "duplicate" | "rejected"
    message: str = ""
    image_id: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def upload_limits() -> UploadLimits:
    return UploadLimits(
        max_file_bytes=settings.TASTEBASE_MAX_UPLOAD_BYTES,
        max_zip_members=settings.TASTEBASE_MAX_ZIP_MEMBERS,
        max_zip_total_bytes=settings.TASTEBASE_MAX_ZIP_TOTAL_BYTES,
        max_zip_ratio=settings.TASTEBASE_MAX_ZIP_RATIO,
    )


def _find_duplicate(board: Board, info: imaging.InspectedImage) -> BoardImage | None:
    same = board.images.filter(sha256=info.sha256).first()
    if same:
        return same
    limit = settings.TASTEBASE_PHASH_DUPLICATE_DISTANCE
    if limit < 0:
        return None
    # Hamming distances over bare (id, hash) tuples: building a model instance per row
    # made the 10,000th upload to a board cost ~1 s; tuples cost ~10 ms.
    for pk, phash in (
        board.images.exclude(phash="").values_list("id", "phash").iterator(chunk_size=5000)
    ):
        if imaging.phash_distance(phash, info.phash) <= limit:
            return board.images.get(pk=pk)
    return None


def board_add_image(
    *, board: Board, user: AbstractBaseUser | None, name: str, data: bytes
) -> UploadResult:
    """Validate one file and add it to the board; never raises for bad input."""
    try:
        info = imaging.inspect_image(data, max_pixels=settings.TASTEBASE_MAX_IMAGE_PIXELS)
    except imaging.ImageRejected as exc:
        return UploadResult(name, "rejected", str(exc))
    duplicate = _find_duplicate(board, info)
    if duplicate:
        return UploadResult(
            name, "duplicate", f"Already on the board as “{duplicate.original_name}”.", duplicate.pk
        )
    image = BoardImage(
        board=board,
        original_name=name[-255:],
        content_type=info.content_type,
        byte_size=len(data),
        width=info.width,
        height=info.height,
        sha256=info.sha256,
        phash=info.phash,
        uploaded_by=user if user and user.is_authenticated else None,
        status=ImageStatus.PROCESSING,
    )
    stored_name = ""
    committing = False
    try:
        with transaction.atomic():
            # Lock the board row: positions stay unique when uploads run in parallel.
            Board.objects.select_for_update().filter(pk=board.pk).first()
            top = board.images.aggregate(top=Max("position"))["top"]
            image.position = 0 if top is None else top + 1
            image.original.save(f"upload.{info.extension}", ContentFile(data), save=False)
            stored_name = image.original.name
            image.save()
            Board.objects.filter(pk=board.pk).update(updated=timezone.now())
            transaction.on_commit(lambda: _enqueue_processing(image.pk))
            committing = True
    except IntegrityError:
        # The same bytes landed from a parallel upload between our check and insert.
        if stored_name:
            default_storage.delete(stored_name)
        return UploadResult(name, "duplicate", "Already on the board.")
    except Exception as exc:
        if committing and isinstance(exc, (OperationalError, InterfaceError)):
            # The connection broke during COMMIT (a database restart): the row may
            # have been saved. Keep its file: an unreferenced file is harmless (backup
            # lists it as an orphan), a row without its file would be a broken image.
            log.error(
                "Upload of %r: the commit's outcome is unknown; file %s kept", name, stored_name
            )
            raise
        if stored_name:
            default_storage.delete(stored_name)
        if is_storage_full(exc):
            # Nothing was kept (the storage writes atomically); say so, per file.
            log.error("Media storage is full; upload of %r refused", name)
            return UploadResult(name, "rejected", STORAGE_FULL_MESSAGE)
        raise
    return UploadResult(name, "added", "", image.pk)


def _enqueue_processing(image_id: int) -> None:
    dispatch(BoardImage, image_id)


def board_add_files(
    *, board: Board, user: AbstractBaseUser | None, files: list[tuple[str, IO[bytes], int | None]]
) -> list[UploadResult]:
    """Add every uploaded file (ZIPs expanded); one bad file never stops the rest.

    One request decodes at most TASTEBASE_MAX_REQUEST_PIXELS, counted from each file's
    header before it is decoded: what would go over is rejected with the reason (and
    can come in the next request), so no request runs for minutes.
    """
    limits = upload_limits()
    budget = settings.TASTEBASE_MAX_REQUEST_PIXELS
    spent = 0
    results: list[UploadResult] = []
    for name, stream, size in files:
        for candidate in expand_upload(name, stream, size, limits):
            if candidate.data is None:
                results.append(UploadResult(candidate.name, "rejected", candidate.error))
                continue
            pixels = imaging.header_pixels(io.BytesIO(candidate.data)) or 0
            if spent + pixels > budget:
                results.append(
                    UploadResult(
                        candidate.name,
                        "rejected",
                        f"Not added: this upload went over {budget / 1e6:g} megapixels in one "
                        "request. Send this file again on its own (or in a smaller ZIP).",
                    )
                )
                continue
            spent += pixels
            results.append(
                board_add_image(board=board, user=user, name=candidate.name, data=candidate.data)
            )
    return results


# --- images ----------------------------------------------------------------------


def image_update(*, image: BoardImage, caption: str) -> BoardImage:
    image.caption = caption.strip()
    image.full_clean(exclude=["original", "display", "thumbnail"])
    image.save(update_fields=["caption"])
    return image


def image_delete(*, image: BoardImage) -> None:
    with transaction.atomic():
        names = _file_names([image])
        image.delete()
        _delete_files_after_commit(names)


MAX_REORDER = 10_000


def board_reorder(*, board: Board, image_ids: list[int]) -> None:
    """Put the listed images first, in that order; others keep their relative order after.

    Linear in the board's size and the list's (ids not on the board are ignored, the
    list is capped), and the write lock is held only for the UPDATE of the positions
    that changed: the order is worked out before the transaction starts.
    """
    if len(image_ids) > MAX_REORDER:
        raise ValidationError(f"Send at most {MAX_REORDER} image ids.")
    current = list(board.images.order_by("position", "id").values_list("id", "position"))
    was = dict(current)
    wanted = [i for i in dict.fromkeys(image_ids) if i in was]
    chosen = set(wanted)
    order = wanted + [i for i, _ in current if i not in chosen]
    changed = [
        BoardImage(pk=image_id, position=position)
        for position, image_id in enumerate(order)
        if was[image_id] != position
    ]
    if not changed:
        return
    with transaction.atomic():
        # The board lock keeps positions apart from a parallel upload's (it takes the
        # top position + 1 under the same lock). An image removed meanwhile updates nothing.
        Board.objects.select_for_update().filter(pk=board.pk).first()
        BoardImage.objects.bulk_update(changed, ["position"], batch_size=500)


def image_process(*, image_id: int) -> BoardImage | None:
    """Make the served image and the thumbnail. Idempotent: safe to run twice."""
    image = BoardImage.objects.filter(pk=image_id).first()
    if image is None or image.status == ImageStatus.READY:
        return image  # deleted meanwhile, or done by an earlier delivery
    try:
        with image.original.open("rb") as fh:
            data = fh.read()
        display, thumb = imaging.make_derivatives(
            data,
            max_pixels=settings.TASTEBASE_MAX_IMAGE_PIXELS,
            thumb_size=settings.TASTEBASE_THUMBNAIL_SIZE,
            display_max=settings.TASTEBASE_DISPLAY_MAX_SIZE,
        )
    except (OSError, imaging.ImageRejected) as exc:
        BoardImage.objects.filter(pk=image_id).update(
            status=ImageStatus.FAILED, error=str(exc)[:255]
        )
        return None
    # Write the new files first, then point the row at them in one UPDATE; old
    # files from an earlier, interrupted attempt are removed afterwards.
    old = [f.name for f in (image.display, image.thumbnail) if f]
    written: list[str] = []
    try:
        for kind, derived in (("display", display), ("thumb", thumb)):
            written.append(
                default_storage.save(
                    f"derived/{image.board_id}/{image.pk}-{kind}.{derived.extension}",
                    ContentFile(derived.content),
                )
            )
    except OSError as exc:
        for name in written:
            default_storage.delete(name)
        if not is_storage_full(exc):
            raise
        # Keep the image waiting, with a reason on its tile; the task retries.
        BoardImage.objects.filter(pk=image_id).update(
            error="Waiting for storage space: the server's disk is full."
        )
        raise StorageFull(str(exc)) from exc
    display_name, thumb_name = written
    updated = 0
    try:
        updated = BoardImage.objects.filter(pk=image_id).update(
            display=display_name, thumbnail=thumb_name, status=ImageStatus.READY, error=""
        )
    finally:
        if not updated:
            # The image was deleted while we worked, or the database is away (a
            # restart; the task is retried): no row points at the new files.
            for name in written:
                default_storage.delete(name)
    if not updated:
        return None
    for name in old:
        if name not in (display_name, thumb_name):
            default_storage.delete(name)
    image.refresh_from_db()
    transaction.on_commit(lambda: image_ready.send(sender=BoardImage, image_id=image_id))
    return image
