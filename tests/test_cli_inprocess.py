"""``parity.cli.main`` called inside another program's process (here pytest's) behaves as a library
call: it returns, and leaves the garbage collector as it found it. Only the console entry point
(``run``) may end the process early, skipping the teardown of a large heap."""

from __future__ import annotations

import gc
import json

from click.testing import CliRunner

from parity.cli import main
from tests.conftest import ROOT, run_parity


def test_main_in_process_returns_and_leaves_the_collector_enabled():
    assert gc.isenabled()
    result = CliRunner().invoke(main, ["layout", "--format", "json", str(ROOT / "manifests/api-gateway")])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["format"] == "parity.layout/v2" and doc["workloads"][0]["workload"]["name"] == "api-gateway"
    assert gc.isenabled()


def test_console_entry_point_prints_everything_before_it_exits():
    richer = str(ROOT / "manifests/richer")
    for args in (["layout", richer], ["layout", "--format", "json", richer]):
        proc = run_parity(*args)
        assert proc.returncode == 0 and proc.stderr == b""
        assert proc.stdout.decode() == CliRunner().invoke(main, args).output
        assert len(proc.stdout) > 4000
