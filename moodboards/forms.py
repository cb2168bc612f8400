from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm

from .models import Board, Role, Team


class SignupForm(UserCreationForm):
    email = forms.EmailField(required=True, help_text="Teammates can invite you by this address.")

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")


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
