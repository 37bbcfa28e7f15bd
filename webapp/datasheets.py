"""The datasheet page's HTML, kept between requests without ever going stale.

What the version fixes (statistics, the plots' data, lineage, novelty) is computed once per version; the side
logs (uses, scores, human answers, aliases, children, score layers) are read on every request, and the
page is rebuilt only when they have changed. A score layer's summary is kept by its sealed manifest
(webapp/scores.py), so a layer written after the first render shows on the next.
"""

from __future__ import annotations

import json

from registry.datasheet_html import render_html
from registry.facts import content_facts, side_facts
from webapp import records, scores
from webapp.cache import LRU

_content_facts = LRU(8)
_pages = LRU(8)


def page(version, store) -> str:
    """The version's datasheet as HTML."""
    side = side_facts(version, root=store, layers_of=lambda v, skipped: scores.summaries(v, store, skipped))
    key = (store.url, version.ref, version.hash)  # two versions may hold the same rows under other lineage

    def content():
        frame = records.table(version, store).drop(records.DERIVED)
        return content_facts(version, root=store, frame=frame)

    def build():
        return render_html(_content_facts.get(key, content) | side, version)

    return _pages.get((*key, json.dumps(side, sort_keys=True, default=str)), build)
