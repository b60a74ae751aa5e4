"""Reproduce a run: plan, re-derive it in its recorded environment, code and data, and explain
whatever came out differently (``parity repro``)."""
