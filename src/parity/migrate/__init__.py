"""Moving history in and out: import from MLflow and DVC, export back to MLflow.

A service beside ``repro`` and ``deploy``: it reads another tool's stores through a narrow source
interface and writes through Parity's own stores, so an import is also a test of those stores.
"""
