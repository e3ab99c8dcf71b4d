"""OAI-PMH 2.0 repository (placeholder until the OAI-PMH issue lands)."""

from flask import Blueprint

blueprint = Blueprint("oai", __name__)
