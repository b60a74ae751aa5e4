"""The model registry: saving and loading models by flavor, versions, aliases, locks, audit."""
