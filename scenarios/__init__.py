"""The bundled scenario library: YAML files, one behaviour each (DESIGN.md §2), shipped as package data.

This package holds no code. It is a package so that the files travel with every install (editable or
not) and are found through ``importlib.resources``: see ``harness.scenarios.library``.
"""
