"""Serving the calendar store over HTTP: the Redox destination (``POST /redox``), FHIR ``Appointment/$find``
(``/fhir``) and health checks.

Loaded only by ``slotfinder serve`` (and by code that imports it): it needs the ``server`` extra,
``pip install 'slotfinder[server]'`` (Starlette and uvicorn). See ``docs/server.md``.
"""

from slotfinder.server._app import app_from_environment, create_app, run
from slotfinder.server._config import ServerConfig, load_config

__all__ = ["ServerConfig", "app_from_environment", "create_app", "load_config", "run"]
