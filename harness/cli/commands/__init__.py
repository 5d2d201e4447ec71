"""Sub-commands of `harness`; one module each, discovered by `harness.cli.build_parser`."""
