"""Forms for reporting a concern. Limits repeat the model's constraints (app/reports/models.py)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, HiddenField, MultipleFileField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional

from app.reports.models import DESCRIPTION_MAX, EMAIL_MAX, NAME_MAX, TITLE_MAX


class PostcodeForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form changes nothing

    postcode = StringField("Postcode", validators=[InputRequired("Enter a postcode, like CV1 5RR")])


class ReportForm(FlaskForm):
    lat = HiddenField("Latitude")
    lon = HiddenField("Longitude")
    category = RadioField(
        "What is the problem?", coerce=str, validators=[InputRequired("Select what the problem is")], choices=[]
    )
    # must match the CheckConstraint on Report.title
    title = StringField(
        "Summary",
        validators=[
            DataRequired("Enter a short summary of the problem"),
            Length(max=TITLE_MAX, message=f"Summary must be {TITLE_MAX} characters or fewer"),
        ],
    )
    # must match the CheckConstraint on Report.description
    description = TextAreaField(
        "Details",
        validators=[
            DataRequired("Enter the details of the problem"),
            Length(max=DESCRIPTION_MAX, message=f"Details must be {DESCRIPTION_MAX:,} characters or fewer"),
        ],
    )
    photos = MultipleFileField("Photos (optional)")
    kept_photos = FieldList(HiddenField(), min_entries=0)
    name = StringField(
        "Your name (optional)",
        validators=[Optional(), Length(max=NAME_MAX, message=f"Name must be {NAME_MAX} characters or fewer")],
    )
    show_name = BooleanField("Show my name on the report")
    email = StringField(
        "Email address",
        validators=[
            DataRequired("Enter your email address"),
            Length(max=EMAIL_MAX, message=f"Email address must be {EMAIL_MAX} characters or fewer"),
            Email("Enter an email address in the correct format, like name@example.com", check_deliverability=False),
        ],
    )
