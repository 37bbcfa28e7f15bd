"""evaluation: answer evaluation sets, judge pairs of answers, and turn verdicts into win rates."""
