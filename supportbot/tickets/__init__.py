"""Tickets: the local row, and the help desk behind it (Jira, or the local database)."""
