"""The shared cache's table: the sign-in counters and the tools' JWKS live here.

Django's ``DatabaseCache`` reads and writes this table with its own SQL; the model only lets a
migration create it (``migrate`` alone sets up a data directory, no ``createcachetable``
step) and ``flush`` empty it. Its columns are exactly those ``createcachetable`` makes.
"""

from __future__ import annotations

from django.db import models

CACHE_TABLE = "manabi_cache"


class CacheEntry(models.Model):
    """One entry of ``django.core.cache.backends.db.DatabaseCache`` (CACHES["default"])."""

    # "key" is reserved in MySQL, hence Django's "cache_key".
    cache_key = models.CharField(max_length=255, primary_key=True)
    value = models.TextField()
    expires = models.DateTimeField(db_index=True)

    class Meta:
        db_table = CACHE_TABLE

    def __str__(self) -> str:
        return self.cache_key
