"""Serve a registered model over HTTP, only once its environment and golden rows check out."""
