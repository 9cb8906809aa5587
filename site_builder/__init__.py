"""site-builder: a static-site generator for annotated explainer pages."""

__version__ = "0.1.0"
