"""Accounts: residents, partner staff, ward officers and administrators; sign-in and sessions."""
