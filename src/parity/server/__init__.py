"""The team server: Parity's stores behind a REST API under ``/api/v1`` (FastAPI + uvicorn).

``route_table`` declares every route with the role it needs; ``gate`` admits a request only
through a declared route, before any body is read; ``app`` assembles them.
"""
