"""Export back to MLflow: runs and model versions written into an MLflow tracking store."""
