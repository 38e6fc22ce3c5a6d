"""permissions.actions: what a role may do, narrowed by the group's or experiment's state, so
templates ask `"stop" in allowed` and never test a status themselves."""

from dashboard.permissions import actions, state_facts

LIVE = state_facts(final=False)
FINAL = state_facts(final=True)


def test_without_a_state_the_set_is_the_roles_rights():
    assert "stop" in actions("member") and "archive" in actions("member")
    assert "tensorboard_start" not in actions("member")
    assert actions("viewer") == {"read", "bookmark"}
    assert actions(None) == frozenset()


def test_stop_is_allowed_only_while_the_target_is_live():
    assert "stop" in actions("member", LIVE)
    assert "stop" not in actions("member", FINAL)
    assert "stop" not in actions("viewer", LIVE)


def test_concurrency_needs_the_edit_right_and_a_live_group():
    assert "concurrency" in actions("member", LIVE)
    assert "concurrency" not in actions("member", FINAL)
    assert "concurrency" not in actions("viewer", LIVE)
    assert "edit" in actions("member", FINAL)  # the description stays editable


def test_archive_and_restore_follow_the_archived_flag():
    archived = actions("member", state_facts(final=True, archived=True))
    assert "restore" in archived and "archive" not in archived
    unarchived = actions("member", state_facts(final=True, archived=False))
    assert "archive" in unarchived and "restore" not in unarchived
    assert not {"archive", "restore"} & actions("viewer", state_facts(final=True, archived=True))


def test_tensorboard_start_stop_and_open_follow_whether_one_runs():
    running = state_facts(final=False, tensorboard_status="running")
    assert {"tensorboard_stop", "tensorboard_open"} <= actions("member", running)
    assert "tensorboard_start" not in actions("member", running)
    for status in (None, "stopped", "failed", "created"):
        idle = actions("member", state_facts(final=False, tensorboard_status=status))
        assert "tensorboard_start" in idle
        assert not {"tensorboard_stop", "tensorboard_open"} & idle


def test_a_viewer_may_open_a_running_tensorboard_but_not_control_it():
    allowed = actions("viewer", state_facts(final=False, tensorboard_status="running"))
    assert "tensorboard_open" in allowed
    assert not {"tensorboard_start", "tensorboard_stop"} & allowed


def test_role_only_rights_stay_when_a_state_is_given():
    allowed = actions("admin", FINAL)
    assert {"read", "edit", "delete_group", "post_status", "manage_members"} <= allowed


def test_members_may_restart_and_copy_any_experiment_and_resume_one_that_ended():
    assert "clone_experiment" in actions("member", LIVE)
    assert "resume_experiment" not in actions("member", LIVE)
    assert "resume_experiment" in actions("member", FINAL)
    assert not {"clone_experiment", "resume_experiment"} & actions("viewer", FINAL)
