"""The experiment aggregate: creation and listing, actions, the table, metrics, its own key."""
