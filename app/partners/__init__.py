"""Partner organisations, their members and coverage, ward officers and invitations."""
