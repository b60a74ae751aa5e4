"""The gate runs on the repro tests' project: a repository that trains a model in a tracked run."""

from tests.repro.conftest import project, workspace

__all__ = ["project", "workspace"]
