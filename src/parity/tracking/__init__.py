"""Experiment tracking: runs, the metrics buffer, code state and the run search filter."""
