"""Application services: the only entry point for the CLI, the API, the web pages and jobs."""

from quantdesk.services.bootstrap import Services, build_services

__all__ = ["Services", "build_services"]
