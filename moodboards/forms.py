import unicodedata

from confusable_homoglyphs import confusables
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm

from .models import Board, Role, Team

CONFUSABLE = (
    "This mixes letters from different alphabets that look alike (such as a Cyrillic “е” "
    "among Latin letters): it could pass for someone else's. Use one alphabet."
)


def lookalike_skeleton(text: str) -> str:
    """``text`` with every character that can pass for a Latin one replaced by it, folded
    to lower case: "ԁеmо" (all Cyrillic) and "Demo" both give "demo"."""
    out = []
    for char in unicodedata.normalize("NFKC", text):
        found = confusables.is_confusable(char, greedy=True, preferred_aliases=["latin"])
        latin = [h["c"] for h in found[0]["homoglyphs"] if h["c"].isascii()] if found else []
        out.append(latin[0] if latin else char)
    return "".join(out).casefold()


class SignupForm(UserCreationForm):
    email = forms.EmailField(required=True, help_text="Teammates can invite you by this address.")

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def clean_username(self) -> str:
        # Django's own check refuses a name that differs from an existing one by case.
        username = super().clean_username()
        if confusables.is_dangerous(username):
            raise forms.ValidationError(CONFUSABLE, code="confusable")
        skeleton = lookalike_skeleton(username)
        if skeleton != username.casefold() and (
            get_user_model().objects.filter(username__iexact=skeleton).exists()
        ):
            raise forms.ValidationError(
                "This name looks like an existing account's. Choose another.", code="lookalike"
            )
        return username

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        local, _, domain = email.rpartition("@")
        if confusables.is_dangerous(local) or confusables.is_dangerous(domain):
            raise forms.ValidationError(CONFUSABLE, code="confusable")
        # Unique whatever the case (a database index backs this up): invitations by
        # email must reach one account, and nobody can claim a colleague's address.
        if get_user_model().objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                "An account already uses this email address. Log in, or use another one.",
                code="email_taken",
            )
        return email


class BoardForm(forms.ModelForm):
    class Meta:
        model = Board
        fields = ("title", "description")
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class NewBoardForm(BoardForm):
    team = forms.ModelChoiceField(queryset=Team.objects.none(), empty_label=None, label="Space")

    class Meta(BoardForm.Meta):
        fields = ("title", "description", "team")

    def __init__(self, *args, teams=None, **kwargs):
        super().__init__(*args, **kwargs)
        if teams is not None:
            self.fields["team"].queryset = teams


class TeamForm(forms.Form):
    name = forms.CharField(max_length=100)


class InviteForm(forms.Form):
    identifier = forms.CharField(max_length=254, label="Username or email")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.EDITOR)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class CaptionForm(forms.Form):
    caption = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
