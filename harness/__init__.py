"""The Braze <-> Mixpanel mock-and-test harness."""

__version__ = "0.1.0"
