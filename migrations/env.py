"""Alembic environment: runs the migrations against the Flask app's database."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config
if config.config_file_name and not logging.getLogger().handlers:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

db = current_app.extensions["migrate"].db
config.set_main_option(
    "sqlalchemy.url", db.engine.url.render_as_string(hide_password=False).replace("%", "%%")
)


def run_migrations_offline():
    """Emit SQL for the migrations without a connection."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=db.metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


# Foreign keys SQLite can only add with their column (ALTER TABLE ... ADD COLUMN ... REFERENCES,
# as migration 0011 does: rebuilding the table would drop its triggers and, with foreign keys
# on, cascade-delete the rows that reference it). SQLAlchemy reads no name nor ON DELETE from
# such a column-level constraint, so comparing them with the models would always differ.
COLUMN_LEVEL_FOREIGN_KEYS = {
    ("experiments", "original_experiment_id"),
    ("experiment_groups", "cloned_from_id"),  # 0013
    ("experiments", "code_upload_id"),  # 0014
}


def include_object(obj, name, type_, reflected, compare_to):
    """Leave out of the comparison with the models what SQLite cannot reflect faithfully."""
    if type_ != "foreign_key_constraint" or db.engine.dialect.name != "sqlite":
        return True
    columns = tuple(column.name for column in obj.columns)
    return not any((obj.table.name, *columns) == key for key in COLUMN_LEVEL_FOREIGN_KEYS)


def run_migrations_online():
    """Run the migrations on a connection of the app's engine."""

    def skip_empty(context_, revision, directives):
        # An autogenerate run that finds no change writes no empty revision.
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", skip_empty)
    conf_args.setdefault("include_object", include_object)
    with db.engine.connect() as connection:
        context.configure(connection=connection, target_metadata=db.metadata, **conf_args)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
