"""IIIF Presentation 3.0 manifests, collections and page images."""
