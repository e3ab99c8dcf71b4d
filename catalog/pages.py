"""Catalog pages for people (placeholder until the catalog pages issue lands)."""

from flask import Blueprint

blueprint = Blueprint("pages", __name__)
