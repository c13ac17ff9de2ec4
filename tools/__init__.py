"""Operator tools behind ``cli.py`` (demo data, campaign operations)."""
