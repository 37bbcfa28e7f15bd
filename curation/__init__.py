"""curation: tell good records from bad and keep the good ones.

    from curation.score import JudgeScorer, score_version
    from curation.select import select_version
    score_version("alpaca@1", JudgeScorer(Endpoint(model="gpt-4o-mini")), root="./reg")
    select_version("alpaca@1", into="alpaca-good", where=["judge>=4.5"], root="./reg")

Scores are layers of a version (registry/layers.py), keyed by record; a selection is a derived
version whose lineage names the layers and the rule.
"""
