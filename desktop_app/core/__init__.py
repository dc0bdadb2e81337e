"""The headless core of Lumen: catalog, vector index, embedder, pipeline and search. Never imports Qt."""
