"""Storage: the SQLite catalog, its keyword index and tags, and the vector index with its files."""
