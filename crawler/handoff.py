"""Handing stored raw pages on to ingest: the ways a crawl may do it.

`inline`: an ingest process beside the crawl (`crawler.ingester`) archives the pages while the crawl
goes on, and the crawl's counts say what they became; `later`: the raw pages stay un-ingested
(`ingested_at` empty) for the workers (the ingest queue, reconcile), which keeps a crawl's cost to
fetching and storing: the service's crawls work this way.
"""

from __future__ import annotations

HANDOFFS = ("inline", "later")
DEFAULT = "inline"
