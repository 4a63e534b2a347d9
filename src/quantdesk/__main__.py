"""``python -m quantdesk``: the ``quantdesk`` command, for an environment whose scripts are not on
the ``PATH``."""

from quantdesk.cli.app import console

if __name__ == "__main__":
    console()
