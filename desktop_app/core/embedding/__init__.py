"""Embedding: the CLIP towers, the torch-free text encoder, weights, model switching and automatic tags."""
