from django.contrib import admin

from .models import Analysis, ImageEmbedding, ImageTag, SearchVector, TasteProfile


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
    list_display = ("board", "version", "code", "image_count", "encoder_id", "created")
    search_fields = ("code",)
    list_filter = ("encoder_id",)
    raw_id_fields = ("board", "created_by")
    # Versions are immutable: the admin shows them but never edits them.
    readonly_fields = [f.name for f in TasteProfile._meta.fields]

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SearchVector)
class SearchVectorAdmin(admin.ModelAdmin):
    """Derived from the embedding cache (rebuilt lazily): shown, never edited."""

    list_display = ("sha256", "space")
    list_filter = ("space",)
    search_fields = ("sha256",)
    exclude = ("vector",)
    readonly_fields = ("sha256", "space")

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(ImageTag)
class ImageTagAdmin(admin.ModelAdmin):
    list_display = ("term", "image", "added_by", "created")
    search_fields = ("term",)
    raw_id_fields = ("image", "added_by")
