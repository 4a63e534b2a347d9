"""``python -m quantdesk``: the ``quantdesk`` command, for an environment whose scripts are not on
the ``PATH``."""

from quantdesk.cli.app import main

if __name__ == "__main__":
    main()
