"""Test-side helpers of the harness: the network guard, assertion helpers and the pytest collection of scenario
files (registered as the `harness_scenarios` pytest plugin)."""
