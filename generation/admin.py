from django.contrib import admin

from .models import ContentImage, Generation, Ingredient, Output


class IngredientInline(admin.TabularInline):
    model = Ingredient
    extra = 0
    raw_id_fields = ("profile",)


class ContentInline(admin.TabularInline):
    model = ContentImage
    extra = 0
    raw_id_fields = ("board_image",)


class OutputInline(admin.TabularInline):
    model = Output
    extra = 0
    fields = ("index", "file", "width", "height", "fidelity", "content_fidelity", "error")
    readonly_fields = fields


@admin.register(Generation)
class GenerationAdmin(admin.ModelAdmin):
    list_display = (
        "pk",
        "team",
        "backend",
        "status",
        "count",
        "strength",
        "cohesion",
        "seed",
        "worker",
        "heartbeat_at",
        "created",
    )
    list_filter = ("backend", "status")
    readonly_fields = ("enqueued_at", "heartbeat_at", "worker")
    raw_id_fields = ("team", "created_by")
    inlines = [IngredientInline, ContentInline, OutputInline]


@admin.register(Output)
class OutputAdmin(admin.ModelAdmin):
    list_display = (
        "generation",
        "index",
        "width",
        "height",
        "fidelity",
        "content_fidelity",
        "error",
    )
    raw_id_fields = ("generation", "content")


admin.site.register(Ingredient)
admin.site.register(ContentImage)
