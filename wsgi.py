"""WSGI entry point: `gunicorn wsgi:app`."""

from catalog import create_app

app = create_app()
