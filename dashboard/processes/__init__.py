"""Process control used by web and runner (TensorBoards, process groups); no services nor runner."""
