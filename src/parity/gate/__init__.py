"""Gates: named checks evaluated into one verdict, rendered for CI (``parity gate``)."""
