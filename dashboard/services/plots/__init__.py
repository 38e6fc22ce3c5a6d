"""A group's plots: the data behind each chart, read in a constant number of queries."""
