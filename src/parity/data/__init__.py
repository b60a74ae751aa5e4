"""Data versioning: hashing, chunking, packing, the stat cache, pointers, checkout, transfer."""
