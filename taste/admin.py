from django.contrib import admin

from .models import Analysis, ImageEmbedding, TasteProfile


@admin.register(ImageEmbedding)
class ImageEmbeddingAdmin(admin.ModelAdmin):
    list_display = ("sha256", "encoder_id", "created")
    list_filter = ("encoder_id",)
    search_fields = ("sha256",)
    readonly_fields = ("sha256", "encoder_id", "extra", "created")
    exclude = ("vector",)


@admin.register(Analysis)
class AnalysisAdmin(admin.ModelAdmin):
    list_display = (
        "pk",
        "board",
        "status",
        "stage",
        "done",
        "total",
        "encoder_id",
        "worker",
        "heartbeat_at",
        "created",
        "finished",
    )
    list_filter = ("status", "encoder_id")
    readonly_fields = ("enqueued_at", "heartbeat_at", "worker")
    raw_id_fields = ("board", "requested_by", "profile")


@admin.register(TasteProfile)
class TasteProfileAdmin(admin.ModelAdmin):
    list_display = ("board", "version", "image_count", "encoder_id", "created")
    list_filter = ("encoder_id",)
    raw_id_fields = ("board", "created_by")
    # Versions are immutable: the admin shows them but never edits them.
    readonly_fields = [f.name for f in TasteProfile._meta.fields]

    def has_change_permission(self, request, obj=None) -> bool:
        return False
