"""Pause, resume and retry on the real local worker: its experiments are real subprocesses."""

from tests.support.control_runs import pause_resume_retry


def test_pause_holds_new_starts_resume_goes_on_and_retry_reruns_failures(
    project_with_code, workers, tmp_path
):
    workers()
    pause_resume_retry(project_with_code, tmp_path / "records" / "control.jsonl")
