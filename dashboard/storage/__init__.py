"""Files under the outputs root: paths, unpacking, safe reads; imports no services nor runner."""
