"""Database helpers shared by every app (no models, no app imports): the SQLite writer queue,
secrets encrypted at rest (``at_rest``) and their re-encryption (``reencrypt``)."""
