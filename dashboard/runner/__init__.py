"""The local runner: a worker process that schedules and runs experiments."""
