from django import template

register = template.Library()


@register.filter
def get_item(mapping: dict, key: str):
    """`{{ thumbs|get_item:key }}`: dictionary lookup with a variable key."""
    return mapping.get(key) if mapping else None


@register.inclusion_tag("taste/_analyze_panel.html", takes_context=True)
def taste_panel(context: template.Context, board) -> dict:
    """The board page's taste panel: `{% taste_panel board %}`. The taste app owns what
    is in it, so the boards app needs no import of taste (imports run the other way)."""
    from taste.selectors import board_panel_context

    return {
        **board_panel_context(board),
        "board": board,
        "can_edit": context.get("can_edit", False),
        "csrf_token": context.get("csrf_token"),
        "request": context.get("request"),
    }
