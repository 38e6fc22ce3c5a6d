"""The fields CONTRACT.md gives a group (a list row, its detail), an experiment and a TensorBoard
job."""

GROUP_ROW_KEYS = {
    "id",
    "uuid",
    "name",
    "unique_name",
    "user",
    "description",
    "last_status",
    "project",
    "created_at",
    "updated_at",
    "started_at",
    "finished_at",
    "tags",
    "concurrency",
    "search_algorithm",
    "bookmarked",
    "cloned_from",  # EXTENSIONS.md section 2
}
GROUP_DETAIL_KEYS = GROUP_ROW_KEYS | {
    "current_iteration",
    "content",
    "hptuning",
    "has_tensorboard",
    "num_experiments",
    "num_pending_experiments",
    "num_running_experiments",
    "num_scheduled_experiments",
    "num_succeeded_experiments",
    "num_failed_experiments",
    "num_stopped_experiments",
}
EXPERIMENT_KEYS = {
    "id",
    "uuid",
    "name",
    "unique_name",
    "user",
    "description",
    "created_at",
    "updated_at",
    "started_at",
    "finished_at",
    "last_status",
    "project",
    "experiment_group",
    "tags",
    "last_metric",
    "params",
    "bookmarked",
    # EXTENSIONS.md section 1: the experiment it continues and how.
    "original_experiment",
    "cloning_strategy",
    "is_clone",
}

# Section 5: a TensorBoard job, as a group's routes answer it.
TENSORBOARD_KEYS = {
    "id", "uuid", "user", "name", "description", "project", "unique_name", "experiment_group",
    "last_status", "tags", "created_at", "updated_at", "started_at", "finished_at", "url",
}  # fmt: skip
