"""What users read never carries secrets or server paths: an experiment's own key is masked in
its log and in exit messages built from the log; OSErrors are told without the file they name."""

import io
import tarfile

from bs4 import BeautifulSoup
from sqlalchemy import select

from dashboard.errors import public_reason
from dashboard.experiment_keys import MASK
from dashboard.extensions import db
from dashboard.models import Experiment
from dashboard.processes import tensorboard
from dashboard.runner.process import disk_full, exit_message
from dashboard.services.experiment.credentials import issue_experiment_token
from dashboard.storage import paths, unpack
from tests.factories import auth, grid_yml, make_group, make_project, make_token, make_user
from tests.support.web import sign_in

OLD_KEY = "xp_" + "0123456789abcdef" * 2 + "01234567"


def _world(app):
    root = make_user("root")
    project = make_project(root, "demo", public=False)
    group = make_group(project, content=grid_yml(2))
    experiment = db.session.scalar(select(Experiment).where(Experiment.group_id == group.id))
    key = issue_experiment_token(experiment)
    db.session.commit()
    log = paths.experiment_log_path(app.config, "root", "demo", group.id, experiment.id)
    log.parent.mkdir(parents=True)
    log.write_text(f"start\nPOLYAXON_TOKEN={key}\nold run: {OLD_KEY}.\nend\n")
    return experiment, key, log, auth(make_token(root))


def test_the_log_api_masks_the_experiments_key(app, client):
    experiment, key, _, headers = _world(app)

    text = client.get(
        f"/api/v1/root/demo/experiments/{experiment.id}/logs", headers=headers
    ).get_data(as_text=True)

    assert text == f"start\nPOLYAXON_TOKEN={MASK}\nold run: {MASK}.\nend\n"
    assert key not in text


def test_the_experiment_page_masks_the_key_in_its_log(app, client):
    experiment, key, _, _ = _world(app)
    sign_in(client, "root")

    url = f"/root/demo/groups/{experiment.group_id}/experiments/{experiment.id}/"
    page = client.get(url).get_data(as_text=True)

    assert f"POLYAXON_TOKEN={MASK}" in page
    assert key not in page and OLD_KEY not in page


def test_exit_messages_mask_keys_in_the_log_tail(app):
    _, key, log, _ = _world(app)

    message = exit_message(3, log)

    assert message == f"Exit code 3.\nstart\nPOLYAXON_TOKEN={MASK}\nold run: {MASK}.\nend"


def test_an_exit_message_drops_the_line_cut_by_the_byte_cap(tmp_path):
    log = tmp_path / "output.log"
    key = "xp_" + "a" * 40
    log.write_text(f"key {key}\n" + "x" * 70000 + "\nlast\n")  # the key line is half cut

    message = exit_message(1, log)

    assert message == "Exit code 1.\nlast"


def test_a_full_disk_is_told_without_its_path(tmp_path):
    message = disk_full(tmp_path / "logs" / "output.log", low=2**62)

    assert message == "No space left on device: the disk holding the experiment's outputs is full."


def test_os_errors_are_told_without_the_file_they_name():
    error = FileNotFoundError(2, "No such file or directory", "/srv/outputs/root/demo/code/3")

    assert public_reason(error) == "No such file or directory"
    assert public_reason(OSError("the dashboard answered 502")) == "the dashboard answered 502"


def test_a_tensorboard_that_cannot_start_is_told_without_server_paths(app, client, monkeypatch):
    root = make_user("root")
    group = make_group(make_project(root, "demo"), content=grid_yml(2))
    outputs = app.config["OUTPUTS_ROOT"]

    def fail(logdir, **_):
        raise PermissionError(13, "Permission denied", str(logdir))

    monkeypatch.setattr(tensorboard, "start_tensorboard", fail)
    response = client.post(
        f"/api/v1/root/demo/groups/{group.id}/tensorboard/start",
        json={},
        headers=auth(make_token(root)),
    )

    assert response.status_code == 409
    assert response.json == {"detail": "TensorBoard could not start: Permission denied"}
    sign_in(client, "root")
    page = BeautifulSoup(client.get(f"/root/demo/groups/{group.id}/").data, "html.parser")
    assert outputs not in page.get_text()


def test_an_upload_that_cannot_be_written_is_told_without_server_paths(app, client, monkeypatch):
    root = make_user("root")
    make_project(root, "demo")
    outputs = app.config["OUTPUTS_ROOT"]

    def full_disk(archive, member, target, *args):
        raise OSError(28, "No space left on device", str(target))

    monkeypatch.setattr(unpack, "_extract", full_disk)
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        info = tarfile.TarInfo("main.py")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    response = client.put(
        "/api/v1/root/demo/repo/upload",
        headers=auth(make_token(root)),
        data={"repo": (io.BytesIO(archive.getvalue()), "code.tar.gz")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 400
    assert response.json == {"repo": ["The upload could not be unpacked: No space left on device."]}
    assert outputs not in response.get_data(as_text=True)
