"""Indexing: decode -> gate -> detect -> track -> describe -> store."""
