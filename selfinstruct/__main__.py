"""`python -m selfinstruct ...`: the same program as the `selfinstruct` command (commands/main.py).

`python -m` puts the current folder first on sys.path, so a `records.py` or `commands/` folder of
the user's would be imported in place of the toolkit's own top-level packages. The folder is taken
off the path first, unless the toolkit itself lives there (a checkout run from its root).
"""

import os
import sys
from pathlib import Path


def _own_packages_first() -> None:
    home = Path(__file__).resolve().parent.parent  # the folder that holds the toolkit's packages
    first = Path(sys.path[0] or os.getcwd()).resolve() if sys.path else None
    if first is not None and first == Path.cwd().resolve() and first != home:
        del sys.path[0]


_own_packages_first()

if __name__ == "__main__":
    from commands.main import main

    main()
