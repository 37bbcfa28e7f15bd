"""Quoting texts inside a prompt so that no text can close its own block.

A judge prompt puts untrusted texts (answers, records) between markers. A text that contains the
closing marker would end its block early and speak to the judge as the prompt; markers that carry
`block_tag(...)`, a tag none of the texts contains, cannot be forged by them.
"""

from __future__ import annotations

import hashlib
import itertools
import json

TAG_LENGTH = 8


def block_tag(*texts: str) -> str:
    """A tag for the markers around one prompt's texts that none of them contains, so that no text can
    end its block early: an answer holding `<<<END RESPONSE A>>>` stays inside its own block, which
    ends only at `<<<END RESPONSE A 5d41402a>>>`. Derived from the texts, not drawn at random, so a
    resumed run renders, and pays for, exactly the prompt it journaled."""
    for attempt in itertools.count():
        tag = hashlib.sha256(json.dumps([attempt, *texts]).encode()).hexdigest()[:TAG_LENGTH]
        if not any(tag in text for text in texts):
            return tag
