"""checkov on the rendered manifests: zero failures, and a skip only as an annotated object with its reason."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.policy.conftest import ROOT, STACKS, output, run

RUNNER = ROOT / "tools" / "checkov_plan.py"
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
SWITCHES_OFF = ("--skip-check", "--soft-fail", "--soft-fail-on", "--hard-fail-on", "--baseline", "--check")
SKIP_MARKERS = ("checkov.io/skip", "bridgecrew.io/skip", "cortex.io/skip")
SKIP_VALUE = re.compile(r"^CKV2?_K8S_\d+=(?P<reason>[^=]+)$")

CONFIG_MAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "map", "namespace": "t"}, "data": {}}
WILDCARD_ROLE = {  # fails exactly one check, CKV_K8S_49 (wildcards in a Role)
    "apiVersion": "rbac.authorization.k8s.io/v1",
    "kind": "Role",
    "metadata": {"name": "wide", "namespace": "t"},
    "rules": [{"apiGroups": [""], "resources": ["*"], "verbs": ["*"]}],
}


def annotated(obj: dict[str, Any], **annotations: str) -> dict[str, Any]:
    return {**obj, "metadata": {**obj["metadata"], "annotations": annotations}}


def write_plan(plan_dir: Path, stack: str, *objects: dict[str, Any]) -> Path:
    manifest = plan_dir / stack / "kubernetes.yaml"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(yaml.safe_dump_all(objects, sort_keys=False))
    return manifest


def checkov() -> Path:
    if not CHECKOV.is_file():
        pytest.fail(
            ".venv-checkov is missing: python3 -m venv .venv-checkov"
            " && .venv-checkov/bin/pip install -r requirements-checkov.txt"
        )
    return CHECKOV


def skip_annotations(node: object, path: str = "") -> list[tuple[str, str, str]]:
    """(where, key, value) of every checkov skip annotation anywhere in a manifest object."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "annotations" and isinstance(value, dict):
                found += [(path, str(k), str(v)) for k, v in value.items() if any(m in str(k) for m in SKIP_MARKERS)]
            found += skip_annotations(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found += skip_annotations(item, f"{path}[{index}]")
    return found


# --- the committed stacks -------------------------------------------------------------------------------


def test_every_committed_stack_passes_checkov_with_zero_failures(plans: Path) -> None:
    result = run([sys.executable, RUNNER, "--plan-dir", plans, "--checkov", checkov(), *STACKS], timeout=600)
    assert result.returncode == 0, output(result)
    for stack in STACKS:
        assert re.search(rf"^checkov {stack}: \d+ objects, 0 failed, \d+ skipped$", result.stdout, re.M), output(result)


@pytest.mark.parametrize("stack", STACKS)
def test_every_skip_in_the_plan_is_on_its_object_with_a_reason(plans: Path, stack: str) -> None:
    manifest = plans / stack / "kubernetes.yaml"
    objects = [o for o in yaml.safe_load_all(manifest.read_text()) if o is not None]
    assert objects, f"{manifest} holds no object"
    for obj in objects:
        name = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
        for where, key, value in skip_annotations(obj):
            assert where == ".metadata", f"{name}: {key} sits in {where}, not the object's own metadata"
            match = SKIP_VALUE.match(value)
            assert match, f"{name}: {key}: {value!r} is not CKV_K8S_<n>=<reason>"
            assert match["reason"].strip(), f"{name}: {key} gives no reason"


# --- the runner cannot be loosened ----------------------------------------------------------------------


def test_the_runner_gives_checkov_only_the_file_and_fixed_flags_in_a_clean_environment(tmp_path: Path) -> None:
    record = tmp_path / "record.json"
    fake = tmp_path / "checkov"
    fake.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        f"json.dump({{'argv': sys.argv[1:], 'cwd': os.getcwd(), 'env': dict(os.environ),"
        f" 'files': os.listdir('.')}}, open({str(record)!r}, 'w'))\n"
        "print(json.dumps({'check_type': 'kubernetes', 'results': {'failed_checks': []},"
        " 'summary': {'passed': 1, 'failed': 0, 'skipped': 0, 'parsing_errors': 0, 'resource_count': 1}}))\n"
    )
    fake.chmod(0o755)
    manifest = write_plan(tmp_path / "plan", "dev", CONFIG_MAP)
    hostile = {"CKV_SKIP_CHECK": "CKV_K8S_8", "CKV_CHECK": "CKV_K8S_1", "CKV_NO_FAIL_ON_CRASH": "true"}
    env = {"PATH": "/usr/bin:/bin", **hostile}
    result = run([sys.executable, RUNNER, "--plan-dir", tmp_path / "plan", "--checkov", fake, "dev"], env=env)
    assert result.returncode == 0, output(result)

    seen = json.loads(record.read_text())
    assert seen["argv"] == [
        "--file",
        str(manifest),
        "--framework",
        "kubernetes",
        "--skip-download",
        "--compact",
        "--quiet",
        "--output",
        "json",
    ]
    assert not [a for a in seen["argv"] if a.split("=")[0] in SWITCHES_OFF]
    assert not [k for k in seen["env"] if k.startswith(("CKV_", "BC_", "PRISMA_"))], seen["env"]
    assert seen["files"] == [], "checkov runs in an empty folder: no .checkov.yaml can be picked up"
    assert seen["env"]["HOME"] == seen["cwd"], "and with an empty home: no ~/.checkov.yaml either"
    assert Path(seen["cwd"]).resolve() != ROOT


def test_no_file_in_the_repository_switches_a_check_off() -> None:
    config_files = [
        p
        for p in ROOT.rglob(".checkov.y*ml")
        if not {".venv", ".venv-checkov", "node_modules", ".git"} & set(p.relative_to(ROOT).parts)
    ]
    assert config_files == [], "checkov would read these config files"
    sources = [ROOT / "Makefile", ROOT / ".ci" / "run", *(ROOT / ".github").rglob("*"), *(ROOT / "tools").glob("*")]
    for source in [p for p in sources if p.is_file()]:
        for line in source.read_text().splitlines():
            code = line.split("#")[0] if source.suffix in ("", ".sh", ".yml", ".yaml") else line
            flags = re.findall(r"--(?:skip-check|soft-fail\S*|baseline)\b", code)
            if source == RUNNER:  # its docstring names them to forbid them; its command is CHECKOV_ARGS
                continue
            assert not flags, f"{source.relative_to(ROOT)}: {line.strip()}"
    runner_args = re.search(r"^CHECKOV_ARGS = (\(.*?\))$", RUNNER.read_text(), re.M)
    assert runner_args, "tools/checkov_plan.py has no CHECKOV_ARGS line"
    assert not [flag for flag in SWITCHES_OFF if f'"{flag}"' in runner_args[1]], runner_args[1]


# --- the runner finds what it must find (real checkov) --------------------------------------------------


NESTED_SKIP = {  # checkov ignores a skip in a pod template's metadata
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "d", "namespace": "t"},
    "spec": {
        "selector": {"matchLabels": {"app": "d"}},
        "template": {
            "metadata": {"labels": {"app": "d"}, "annotations": {"checkov.io/skip1": "CKV_K8S_8=a reason, misplaced"}},
            "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]},
        },
    },
}


@pytest.fixture(scope="module")
def findings(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The runner's report on four made-up stacks: one failing, one skipped well, one skipped badly, one garbage."""
    root = tmp_path_factory.mktemp("mutants")
    plan_dir = root / "plan"
    write_plan(plan_dir, "failing", CONFIG_MAP, WILDCARD_ROLE)
    write_plan(
        plan_dir,
        "skipped",
        CONFIG_MAP,
        annotated(WILDCARD_ROLE, **{"checkov.io/skip1": "CKV_K8S_49=the fixture needs one failing check to skip"}),
    )
    write_plan(
        plan_dir,
        "bad-skips",
        annotated(CONFIG_MAP, **{"checkov.io/skip1": "CKV_K8S_21"}),
        annotated(
            {**CONFIG_MAP, "metadata": {"name": "other", "namespace": "t"}}, **{"bridgecrew.io/skip2": "CKV_K8S_21=ok"}
        ),
        NESTED_SKIP,
    )
    (plan_dir / "garbage").mkdir()
    (plan_dir / "garbage" / "kubernetes.yaml").write_text("kind: [unclosed\n")
    stacks = ["failing", "skipped", "bad-skips", "garbage"]
    result = run([sys.executable, RUNNER, "--plan-dir", plan_dir, "--checkov", checkov(), *stacks], cwd=root)
    assert result.returncode == 1, output(result)
    return result.stdout


def test_a_failed_check_is_reported_with_its_place(findings: str) -> None:
    assert re.search(r"^plan/failing/kubernetes\.yaml:\d+-\d+: CKV_K8S_49 .*\[Role\.t\.wide\]$", findings, re.M)
    assert re.search(r"^checkov failing: 2 objects, 1 failed, 0 skipped$", findings, re.M), findings


def test_a_skip_annotated_on_its_object_with_a_reason_is_honoured_and_shown(findings: str) -> None:
    assert re.search(r"^checkov skipped: 2 objects, 0 failed, 1 skipped$", findings, re.M), findings
    row = r"^CKV_K8S_49 +Role wide +skipped +the fixture needs one failing check to skip$"
    assert re.search(row, findings, re.M), findings
    assert not re.search(r"^plan/skipped/", findings, re.M), findings


def test_a_skip_without_a_real_reason_or_in_the_wrong_place_is_refused(findings: str) -> None:
    expected = [
        "ConfigMap/t/map: annotation checkov.io/skip1: 'CKV_K8S_21': write it as CKV_K8S_<n>=<reason>",
        "ConfigMap/t/other: annotation bridgecrew.io/skip2: 'CKV_K8S_21=ok': give the reason",
        "Deployment/t/d: annotation checkov.io/skip1: 'CKV_K8S_8=a reason, misplaced': put it in the object's own",
    ]
    for line in expected:
        assert line in findings, findings


def _runner() -> Any:
    spec = importlib.util.spec_from_file_location("checkov_plan", RUNNER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("checkov_plan", module)  # its dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_skips_read_as_one_table_a_row_per_reason_and_kind() -> None:
    runner = _runner()
    pause = "CKV_K8S_{}=the work runs in init containers and the main container is a pause"
    driver = annotated(
        {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "nvidia-driver-t4", "namespace": "d"}},
        **{"checkov.io/skip1": pause.format(8), "checkov.io/skip2": pause.format(9)},
    )
    other = {**driver, "metadata": {**driver["metadata"], "name": "nvidia-driver-l4"}}
    router = annotated(
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "router", "namespace": "f"}},
        **{"checkov.io/skip1": "CKV_K8S_35=keys come from a Secret by reference"},
    )
    table = runner.skip_table([runner.Stack("dev", Path("k.yaml"), [router, driver, other], [])])
    assert table[0].split() == ["skipped", "checks", "objects", "reason"] and set(table[1]) == {"-"}
    assert [line.split("  ")[0].strip() for line in table[2:]] == ["CKV_K8S_8,9", "CKV_K8S_35"]
    assert "DaemonSet nvidia-driver-{l4,t4}  the work runs in init containers" in table[2]
    assert re.search(r"^CKV_K8S_35 +Deployment router +keys come from a Secret by reference$", table[3])
    assert len({line.index("the work") for line in table[2:3]} | {table[3].index("keys come")}) == 1  # aligned
    assert runner.skip_table([runner.Stack("dev", Path("k.yaml"), [CONFIG_MAP], [])]) == [
        "checkov: no check is skipped"
    ]


def test_an_unreadable_plan_is_a_finding_not_a_pass(findings: str) -> None:
    assert "plan/garbage/kubernetes.yaml: cannot read it" in findings, findings


def test_a_missing_plan_names_the_make_command(tmp_path: Path) -> None:
    result = run([sys.executable, RUNNER, "--plan-dir", tmp_path, "--checkov", sys.executable, "dev"])
    assert result.returncode == 2, output(result)
    assert "make plan STACK=dev" in result.stderr, output(result)


def test_the_skip_walker_of_these_tests_sees_nested_annotations() -> None:
    found = skip_annotations(
        annotated(
            {"kind": "Deployment", "metadata": {"name": "x"}, "spec": {"template": {"metadata": {"annotations": {}}}}},
            **{"checkov.io/skip1": "CKV_K8S_8=why", "example.com/other": "x"},
        )
    )
    assert found == [(".metadata", "checkov.io/skip1", "CKV_K8S_8=why")]
