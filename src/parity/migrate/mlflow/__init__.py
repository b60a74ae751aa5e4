"""MLflow tracking stores as an import source: readers for each store kind, and the importer."""
