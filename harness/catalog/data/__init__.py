"""Spec-derived data files of the event catalog (see harness.catalog.loader); a package so they ship as package data."""
