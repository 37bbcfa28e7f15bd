"""Tell good records from bad: per-record scores and the selections made with them."""
