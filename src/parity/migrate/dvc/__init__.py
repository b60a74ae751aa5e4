"""Importing from DVC: its files, config and objects read directly (DVC need not be installed),
its outputs versioned by Parity, its git history linked, its pipeline stages recorded as runs."""
