"""IIIF endpoints (placeholder until the IIIF issue lands)."""

from flask import Blueprint

blueprint = Blueprint("iiif", __name__)
