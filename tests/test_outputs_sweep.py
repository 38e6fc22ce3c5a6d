"""The sweep of unused folders: deleted groups' outputs and abandoned upload staging folders."""

import os
import time

from dashboard.runner.sweep import STAGING_TIMEOUT, Sweeper
from dashboard.services.group.groups import delete_group
from dashboard.services.project.access import project_access
from dashboard.storage import paths
from tests.factories import grid_yml, make_group, make_project, make_user


def _group_with_outputs(app, project):
    group = make_group(project, content=grid_yml(1))
    folder = paths.group_dir(app.config, "alice", "demo", group.id)
    (folder / "experiments" / "1" / "outputs").mkdir(parents=True)
    (folder / "experiments" / "1" / "outputs" / "model.bin").write_bytes(b"x" * 100)
    return group, folder


def _two_groups_one_deleted(app):
    alice = make_user("alice")
    project = make_project(alice, "demo")
    kept, kept_folder = _group_with_outputs(app, project)
    deleted, deleted_folder = _group_with_outputs(app, project)
    delete_group(project_access("alice", "demo", actor=alice), deleted.id)
    return kept_folder, deleted_folder


def test_a_deleted_groups_folder_is_swept_and_another_groups_stays(app):
    kept, deleted = _two_groups_one_deleted(app)

    removed = Sweeper(app, every=0, grace=0).sweep()

    assert removed == [deleted]
    assert not deleted.exists()
    assert (kept / "experiments" / "1" / "outputs" / "model.bin").is_file()


def test_a_deleted_groups_folder_stays_until_its_grace_has_passed(app):
    _, deleted = _two_groups_one_deleted(app)
    sweeper = Sweeper(app, every=0, grace=3600)

    removed = sweeper.sweep()

    assert removed == []
    assert deleted.is_dir()
    assert list(sweeper.orphans) == [deleted]


def test_the_sweep_runs_in_a_thread_of_its_own(app):
    kept, deleted = _two_groups_one_deleted(app)
    sweeper = Sweeper(app, every=0, grace=0)

    sweeper.maybe_start()

    sweeper.thread.join(timeout=30)
    assert sweeper.thread.name == "outputs-sweep"
    assert not deleted.exists()
    assert kept.is_dir()


def test_an_abandoned_upload_staging_folder_is_swept_and_a_fresh_one_stays(app):
    abandoned = paths.repo_staging_dir(app.config, "alice", "demo", "0a")
    fresh = paths.repo_staging_dir(app.config, "alice", "demo", "0b")
    for folder in (abandoned, fresh):
        (folder / "pkg").mkdir(parents=True)
        (folder / "pkg" / "train.py").write_text("print(1)\n")
    old = time.time() - STAGING_TIMEOUT - 60
    os.utime(abandoned, (old, old))

    removed = Sweeper(app, every=0, grace=0).sweep()

    assert removed == [abandoned]
    assert fresh.is_dir()


def test_a_read_only_folder_left_by_an_experiment_is_swept(app):
    _, deleted = _two_groups_one_deleted(app)
    (deleted / "experiments" / "1" / "outputs").chmod(0o500)

    Sweeper(app, every=0, grace=0).sweep()

    assert not deleted.exists()
