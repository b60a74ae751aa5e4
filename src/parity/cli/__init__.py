"""The command-line interface: thin commands over the API."""
