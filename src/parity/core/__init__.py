"""The pure core of Parity: records, ids, canonical JSON, references and rules. No I/O here."""
