"""quantdesk: systematic portfolio management from data to reports.

The Python API lives in :mod:`quantdesk.services`; see the README for examples.
"""

__version__ = "0.1.0"
