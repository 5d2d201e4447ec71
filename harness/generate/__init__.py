"""The event generator (issue 5): Braze Faker provider, worlds from one seed, Currents event streams."""
