"""Pure OpenID Connect rules of the portal's provider: no Django, no project app; values in,
values out (claims for a privacy level, pairwise subjects, redirect URI rules)."""
