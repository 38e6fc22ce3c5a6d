"""The group aggregate: its operations, statuses, counters, events, objective and TensorBoard."""
