"""Accounts of a Parity server: users, API tokens, grants; stored hashed in the metadata store."""
