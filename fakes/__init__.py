"""Flask apps that impersonate Mixpanel ingestion and Braze partner cohort import."""
