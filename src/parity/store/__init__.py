"""Storage adapters: the object store and the metadata store. Nothing above them picks a backend."""
