"""The Python API façade used by the CLI, the server and users' scripts."""
