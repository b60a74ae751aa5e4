"""Adapters that reach a Parity server over HTTP: the client transport, the object backend and
the record index. Service-level repositories over HTTP live beside their SQL twins."""
