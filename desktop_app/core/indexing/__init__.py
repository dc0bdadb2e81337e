"""Indexing: walking and watching folders, and the pipeline that turns files into catalog rows and vectors."""
