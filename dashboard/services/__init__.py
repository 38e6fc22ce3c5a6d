"""Domain operations, written once and used by every transport (API, UI, CLI, runner)."""
