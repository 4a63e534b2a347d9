"""Repositories: the only code that speaks SQL. Each function takes an open ``Connection`` so the
caller (a service) owns the transaction boundary."""
