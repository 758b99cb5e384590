"""The HTTP API (FastAPI): the service that administrators, auditors and donors talk to."""

from api.http.app import create_app

__all__ = ["create_app"]
