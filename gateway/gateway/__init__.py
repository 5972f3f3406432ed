"""The API gateway: the only door of the web frontend and outside clients to the services."""
from gateway.app import create_app

__all__ = ["create_app"]
