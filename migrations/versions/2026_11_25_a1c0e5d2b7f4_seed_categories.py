"""Seed the categories Coventry residents raise most.

Revision ID: a1c0e5d2b7f4
Revises: 9609cc3a0313
Create Date: 2026-11-25 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "a1c0e5d2b7f4"
down_revision = "9609cc3a0313"
branch_labels = None
depends_on = None

STREETS = "Streets and environment"
SAFETY = "Safety and community"
OTHER = "Other"

# (slug, name, group, sensitive, default sector, hint)
CATEGORIES = [
    ("fly-tipping", "Fly-tipping", STREETS, False, "council", "Rubbish, furniture or waste dumped illegally"),
    ("litter", "Litter and overflowing bins", STREETS, False, "council", ""),
    ("graffiti", "Graffiti", STREETS, False, "council", ""),
    ("potholes-pavements", "Potholes and pavements", STREETS, False, "council", "Roads, pavements, kerbs and drain covers"),
    ("street-lighting", "Street lighting", STREETS, False, "council", ""),
    ("abandoned-vehicles", "Abandoned vehicles", STREETS, False, "council", ""),
    ("road-safety", "Road safety", STREETS, False, "council", "Speeding, dangerous junctions, signs hidden by hedges"),
    ("parks-green-spaces", "Parks and green spaces", STREETS, False, "council", "Play areas, grass cutting, trees"),
    ("anti-social-behaviour", "Anti-social behaviour", SAFETY, True, "police", "In an emergency call 999"),
    ("drug-dealing", "Drug dealing", SAFETY, True, "police", "In an emergency call 999"),
    ("noise", "Noise", SAFETY, True, "council", "Loud music, barking dogs, noisy premises"),
    ("unsafe-buildings", "Unsafe buildings and structures", SAFETY, False, "council", "Loose tiles, unsafe walls, open empty buildings"),
    ("housing-disrepair", "Housing disrepair", SAFETY, True, "housing", "Damp, mould, leaks or repairs a landlord has not done"),
    ("rough-sleeping", "Someone sleeping rough", SAFETY, True, "voluntary", "We pass this to outreach teams"),
    ("welfare-concern", "Concern for a neighbour's welfare", SAFETY, True, "health", "If someone is in danger now, call 999"),
    ("other", "Something else", OTHER, False, "council", ""),
]

categories = sa.table(
    "categories",
    sa.column("slug", sa.String),
    sa.column("name", sa.String),
    sa.column("group", sa.String),
    sa.column("hint", sa.String),
    sa.column("sensitive", sa.Boolean),
    sa.column("default_sector", sa.String),
    sa.column("active", sa.Boolean),
    sa.column("position", sa.Integer),
)


def upgrade() -> None:
    op.bulk_insert(
        categories,
        [
            {
                "slug": slug, "name": name, "group": group, "sensitive": sensitive,
                "default_sector": sector, "hint": hint, "active": True, "position": position,
            }
            for position, (slug, name, group, sensitive, sector, hint) in enumerate(CATEGORIES)
        ],
    )


def downgrade() -> None:
    op.execute(categories.delete().where(categories.c.slug.in_([c[0] for c in CATEGORIES])))
