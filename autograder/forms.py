"""Forms of the autograder's pages: they parse and check input shape; services keep the rules."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import slug_re


class AssignmentImportForm(forms.Form):
    slug = forms.CharField(required=False)
    title = forms.CharField(required=False)
    item = forms.CharField(required=False)

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"]
        if not slug_re.fullmatch(slug) or slug == "import":  # "import" is the page's own address
            raise ValidationError("Give a short name of letters, digits, - and _.")
        return slug


class RegradeForm(forms.Form):
    """Staff's "grade again": one submission, or (without one) every student's newest."""

    submission = forms.IntegerField(required=False)


class ManualGradeForm(forms.Form):
    """A hand grade: the service checks the cell and the points, and says what is wrong."""

    submission = forms.IntegerField()
    grade_id = forms.CharField(required=False, strip=False)
    points = forms.CharField(required=False, strip=False)
    comment = forms.CharField(required=False, strip=False)


def cleaned(form: forms.Form) -> dict:
    """The form's data, or a ``ValidationError`` holding each of its messages."""
    if not form.is_valid():
        raise ValidationError([m for messages in form.errors.values() for m in messages])
    return form.cleaned_data
