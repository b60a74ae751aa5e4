"""Deployment: infrastructure files in lineage, manifests that carry a model's lineage, and the
record of what runs where."""
