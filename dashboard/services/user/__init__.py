"""The user aggregate: accounts, passwords, API tokens and browser sessions."""
