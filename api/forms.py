from django import forms


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="What uses it, e.g. “render farm” or “Figma sync”."
    )
