"""hnswlib wrapper: ids are catalog vector ids; exact search for small libraries; atomic save."""

# Implemented by the vector-index work; see the class docstring for the contract.
