"""evaluation: answer evaluation sets, judge pairs of answers, turn verdicts into win rates, chat with a model."""
