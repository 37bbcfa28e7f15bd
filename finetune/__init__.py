"""finetune: Alpaca's recipe on any registered dataset version, on accelerate.

    from finetune import load_config, train, plan
    out = train(load_config("alpaca-7b", ["epochs=1"], dataset="alpaca@1", model="./llama-7b"))

Importing this package loads no torch; the functions import it when called.
"""

from finetune.config import FinetuneConfig, load_config
from finetune.plan import plan
from finetune.train import train

__all__ = ["FinetuneConfig", "load_config", "plan", "train"]
