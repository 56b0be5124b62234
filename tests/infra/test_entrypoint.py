"""The way Pulumi runs us: the root ``__main__.py``, config from the engine, errors as Pulumi shows them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter

import pulumi
import pytest

from infra.offline.mocks import run_program
from infra.program import build
from tests.infra.fleet import ROOT, engine_config, file_value

# A fresh interpreter with its own minimal mocks and nothing of ours imported beforehand; config arrives the
# way the language host passes it (PULUMI_CONFIG), and the program runs the way the host runs it
# (runpy on the project directory). Preview mode: provider outputs are unknown, as in `pulumi preview`.
PULUMI_HOST = """
import json, runpy, sys
import pulumi

class Mocks(pulumi.runtime.Mocks):
    def __init__(self):
        self.types = []
    def new_resource(self, args):
        self.types.append(args.typ)
        return args.name + "-id", dict(args.inputs)
    def call(self, args):
        return {}, []

mocks = Mocks()
pulumi.runtime.set_mocks(mocks, project="ollama-fleet", stack=sys.argv[1], preview=True)

@pulumi.runtime.test
def program():
    runpy.run_path(".", run_name="__main__")

program()
print(json.dumps(mocks.types))
"""


@pytest.mark.parametrize("stack", ["dev", "home", "hybrid"])
def test_root_main_registers_the_fleet_from_engine_config(stack: str) -> None:
    config, secret_keys = engine_config(stack)
    env = {**os.environ, "PULUMI_CONFIG": json.dumps(config), "PULUMI_CONFIG_SECRET_KEYS": json.dumps(secret_keys)}
    result = subprocess.run(
        [sys.executable, "-c", PULUMI_HOST, stack],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    types = Counter(json.loads(result.stdout.strip().splitlines()[-1]))
    assert types["ollama-fleet:infra:Cluster"] == 1 and types["ollama-fleet:infra:Router"] == 1
    in_cluster = [pool for pool in file_value(stack, "pools") if "external" not in pool]
    assert types["ollama-fleet:infra:OllamaBackend"] == len(in_cluster)
    assert types["kubernetes:apps/v1:StatefulSet"] == len(in_cluster)
    assert (types["gcp:container/cluster:Cluster"] == 1) is (stack != "home")


def test_an_invalid_stack_stops_the_program_with_every_problem() -> None:
    pools = file_value("dev", "pools")
    pools[0]["gpusPerNode"] = 0
    pools[1]["zones"] = ["nowhere"]
    config, _ = engine_config("dev", pools=pools)
    with pytest.raises(pulumi.RunError) as caught:
        run_program(build, config, stack="dev")
    message = str(caught.value)
    assert "2 problems" in message and "pools[0].gpusPerNode" in message and "pools[1].zones[0]" in message
    assert "Traceback" not in message
    config, _ = engine_config("dev", routr="{}")
    with pytest.raises(pulumi.RunError, match="ollama-fleet:routr: unknown key"):
        run_program(build, config, stack="dev")


def test_a_pool_cannot_take_the_system_pool_name() -> None:
    pools = file_value("dev", "pools")
    pools[3]["name"] = "system"
    config, _ = engine_config("dev", pools=pools)
    with pytest.raises(pulumi.RunError, match=r"pools\[3\]\.name"):
        run_program(build, config, stack="dev")
