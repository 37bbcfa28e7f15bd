"""`python -m finetune run|plan ...`: the entry point for `accelerate launch -m finetune run`.

It runs through the top-level command group, so exit statuses (130 on Ctrl-C) are those of
`selfinstruct finetune ...`.
"""

import sys

from commands.main import cli

cli(args=["finetune", *sys.argv[1:]], prog_name="python -m")
