from django.contrib import admin

from .models import Board, BoardImage, Invitation, Membership, Team


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ("user",)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "personal_for", "created")
    search_fields = ("name", "personal_for__username")
    inlines = [MembershipInline]
    raw_id_fields = ("personal_for",)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "team", "role", "created")
    list_filter = ("role",)
    search_fields = ("user__username", "team__name")
    raw_id_fields = ("user", "team")


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("identifier", "team", "role", "status", "invited_by", "created")
    list_filter = ("status", "role")
    search_fields = ("identifier", "team__name")
    raw_id_fields = ("team", "user", "invited_by")


class BoardImageInline(admin.TabularInline):
    model = BoardImage
    extra = 0
    fields = ("original_name", "status", "width", "height", "position", "caption")
    readonly_fields = ("original_name", "status", "width", "height")
    show_change_link = True


@admin.register(Board)
class BoardAdmin(admin.ModelAdmin):
    list_display = ("title", "team", "created_by", "archived_at", "updated")
    list_filter = ("archived_at",)
    search_fields = ("title", "team__name")
    raw_id_fields = ("team", "created_by")
    inlines = [BoardImageInline]


@admin.register(BoardImage)
class BoardImageAdmin(admin.ModelAdmin):
    list_display = ("original_name", "board", "status", "width", "height", "byte_size", "created")
    list_filter = ("status", "content_type")
    search_fields = ("original_name", "sha256", "board__title")
    raw_id_fields = ("board", "uploaded_by")
    readonly_fields = ("sha256", "phash", "enqueued_at", "heartbeat_at", "worker")
