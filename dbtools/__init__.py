"""Database helpers shared by every app (no models, no app imports): the SQLite writer queue."""
