"""finetune: Alpaca's recipe on any registered dataset version, on accelerate."""
