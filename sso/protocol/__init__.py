"""Pure Python checks of upstream identities (no Django, no project app)."""
