"""The reading side: an ASGI app over store queries (pages, JSON API, Atom feeds, metrics)."""
