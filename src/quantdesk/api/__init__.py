"""The HTTP interface: one FastAPI app serving the REST API under ``/api`` and the web pages.

Routes call services only; request and response bodies are pydantic schemas, never tables.
"""

from quantdesk.api.app import create_app

__all__ = ["create_app"]
