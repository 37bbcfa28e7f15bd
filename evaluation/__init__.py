"""Evaluate instruction-following models: answer an evaluation set, judge answers, chat with a model."""
