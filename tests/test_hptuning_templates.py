"""run.cmd rendering in the Jinja2 sandbox."""

import pytest

from dashboard.hptuning import SpecError, parse_group_spec, render_command


def group(cmd, params="{batch_size: 128}"):
    return (
        "version: 1\nkind: group\n"
        "hptuning: {matrix: {lr: {values: [0.1, 0.01]}, act: {values: [relu]}}}\n"
        f"params: {params}\nrun:\n  cmd: {cmd}\n"
    )


def errors_of(content):
    with pytest.raises(SpecError) as info:
        parse_group_spec(content)
    return info.value.errors


def test_render_command_fills_params_and_renders_numbers_with_str():
    spec = parse_group_spec(group("train --lr={{ lr }} --bs={{ batch_size }} --act={{ act }}"))
    rendered = render_command(spec, {"lr": 1e-05, "batch_size": 128, "act": "relu"})
    assert rendered == "train --lr=1e-05 --bs=128 --act=relu"


def test_a_list_command_renders_each_item():
    spec = parse_group_spec(group('["python", "train.py", "--lr={{ lr }}"]'))
    assert render_command(spec, {"lr": 0.1}) == ["python", "train.py", "--lr=0.1"]


def test_a_typo_is_refused_at_create_time_naming_the_variable():
    errors = errors_of(group("train --lr={{ lerning_rate }}"))
    assert len(errors) == 1
    assert errors[0].startswith("run.cmd: ")
    assert "lerning_rate" in errors[0]


def test_a_typo_in_a_list_item_names_the_item():
    errors = errors_of(group('["train", "--lr={{ lr }}", "--x={{ nope }}"]'))
    assert errors[0].startswith("run.cmd[2]: ")
    assert "nope" in errors[0]


def test_the_sandbox_refuses_class_introspection():
    errors = errors_of(group("\"{{ ''.__class__.__mro__[1].__subclasses__() }}\""))
    assert errors[0].startswith("run.cmd: the template sandbox refused an expression")
    assert "__class__" in errors[0]


def test_huge_string_repetition_is_refused():
    errors = errors_of(group("\"{{ 'a' * 1000000000 }}\""))
    assert errors[0].startswith("run.cmd: the template sandbox refused an expression")


def test_template_syntax_errors_are_reported():
    errors = errors_of(group('"train {{ lr "'))
    assert errors[0].startswith("run.cmd: template syntax error at line 1")


def test_render_command_raises_for_a_missing_param():
    spec = parse_group_spec(group("train --lr={{ lr }}"))
    with pytest.raises(SpecError) as info:
        render_command(spec, {})
    assert info.value.errors == ["run.cmd: unknown variable: 'lr' is undefined"]


def test_hyperband_resource_is_known_to_the_template():
    content = (
        "version: 1\nkind: group\nhptuning:\n"
        "  hyperband:\n"
        "    {max_iter: 9, eta: 3, resource: {name: epochs, type: int}, metric: {name: l}}\n"
        "  matrix: {lr: {uniform: 0:1}}\n"
        "run: {cmd: 'train --lr={{ lr }} --epochs={{ epochs }}'}\n"
    )
    assert parse_group_spec(content).search_algorithm == "hyperband"


def test_html_is_not_escaped():
    spec = parse_group_spec(group("\"echo {{ act }} > out.txt && echo '<b>'\""))
    assert render_command(spec, {"act": "a&b"}) == "echo a&b > out.txt && echo '<b>'"
