"""`python -m selfinstruct ...`: the same program as the `selfinstruct` command (commands/main.py)."""

from commands.main import main

if __name__ == "__main__":
    main()
