"""``docker/livestart.py``'s rules, without an engine: which ``depends_on`` entries a start waits for
and in what order its steps come (``dependencies``, ``start_after``), when a condition holds as Compose
2.40 judges it (``condition_met``), and which projects Compose must start itself
(``compose_start_needed``). The live tests (tests/live/test_diff_live.py) run them against the engine."""

from __future__ import annotations

import pytest

from parity.docker.livestart import (COMPLETED, HEALTHY, STARTED, Dependency, DependencyFailed, compose_start_needed,
                                     condition_met, dependencies, restarts, start_after)

SERVICES = {
    "parity-data": {"image": "d"},
    "pod_sandbox": {"image": "b"},
    "app": {"depends_on": {"parity-data": {"condition": COMPLETED, "required": True},
                           "pod_sandbox": {"condition": STARTED, "required": True}}},
    "sidecar": {"depends_on": {"parity-data": {"condition": COMPLETED}, "app": {"condition": HEALTHY},
                               "gone": {"condition": STARTED, "required": False}}},
    "watcher": {"depends_on": {"app": {"condition": HEALTHY, "required": False}}},
}


def test_each_service_starts_after_its_dependencies_starts_and_the_waits_of_their_conditions():
    deps = dependencies(SERVICES)
    assert deps["sidecar"] == [Dependency("parity-data", COMPLETED), Dependency("app", HEALTHY)]  # (not "gone")
    assert start_after(deps) == {
        "parity-data": [], "pod_sandbox": [],
        "app": ["parity-data service_completed_successfully", "pod_sandbox"],
        "sidecar": ["parity-data service_completed_successfully", "app service_healthy"],
        "watcher": ["app service_healthy optional"],
        # one wait per dependency and condition, shared by the services that need it, after its start
        "parity-data service_completed_successfully": ["parity-data"],
        "app service_healthy": ["app"], "app service_healthy optional": ["app"],
    }


def test_the_short_form_of_depends_on_is_service_started():
    assert dependencies({"a": {}, "b": {"depends_on": ["a"]}})["b"] == [Dependency("a", STARTED)]


def running(health=None, **more) -> dict:
    return {"Status": "running", **({"Health": {"Status": health}} if health else {}), **more}


@pytest.mark.parametrize("condition, states, expected", [
    (COMPLETED, [running()], (None, "")),
    (COMPLETED, [{"Status": "exited", "ExitCode": 0}], (True, "")),
    (COMPLETED, [{"Status": "exited", "ExitCode": 3}], (False, "didn't complete successfully: exit 3")),
    (COMPLETED, [running(), {"Status": "exited", "ExitCode": 0}], (True, "")),  # the first that exited decides
    (HEALTHY, [running("starting")], (None, "")),
    (HEALTHY, [running("healthy")], (True, "")),
    (HEALTHY, [running("healthy"), running("starting")], (None, "")),  # every container
    (HEALTHY, [running("unhealthy")], (False, "is unhealthy")),
    (HEALTHY, [running()], (False, "has no healthcheck configured")),
    (HEALTHY, [{"Status": "exited", "ExitCode": 1, "Health": {"Status": "healthy"}}], (False, "exited (1)")),
    (STARTED, [{"Status": "created"}], (None, "")),
    (STARTED, [{"Status": "exited", "ExitCode": 1}], (True, "")),
    ("service_wished_for", [{"Status": "created"}], (True, "")),  # Compose warns and does not wait
])
def test_a_condition_holds_as_compose_judges_it(condition, states, expected):
    assert condition_met(condition, states) == expected


@pytest.mark.parametrize("svc, restarted", [
    ({}, False), ({"restart": "no"}, False), ({"restart": "unless-stopped"}, True), ({"restart": "on-failure"}, True),
    ({"deploy": {"restart_policy": {"condition": "any"}}}, True), ({"deploy": {"restart_policy": {"condition": "none"}}}, False),
    ({"restart": "no", "deploy": {"restart_policy": {"condition": "any"}}}, True),  # deploy's wins, as in Compose
    ({"restart": "always", "deploy": {"restart_policy": {}}}, False), ({"restart": "on-failure:3"}, True),
])
def test_completion_is_read_from_the_die_event_only_of_a_container_the_engine_does_not_restart(svc, restarted):
    assert restarts(svc) is restarted


def test_a_failed_dependency_is_named_by_its_service_with_compose_s_reason_and_who_depends_on_it():
    assert str(DependencyFailed(Dependency("init", COMPLETED), "didn't complete successfully: exit 3", ["app"])) == (
        "service \"init\" didn't complete successfully: exit 3 (service app depends on it)")
    assert str(DependencyFailed(Dependency("db", HEALTHY), "is unhealthy", ["app", "worker"])) == (
        'dependency failed to start: service "db" is unhealthy (services app, worker depend on it)')


@pytest.mark.parametrize("services, secrets, configs, needed", [
    (SERVICES, {}, {}, None),
    ({"a": {"post_start": [{"command": ["true"]}]}}, {}, {}, "service a has start hooks"),
    ({"a": {"secrets": [{"source": "s"}]}}, {"s": {"file": "/x/s.txt"}}, {}, None),  # a bind: made by Compose
    ({"a": {"secrets": [{"source": "s"}]}}, {"s": {"environment": "PASS"}}, {},
     "service a's secrets are copied in by Compose at the start"),
    ({"a": {"configs": [{"source": "c"}]}}, {}, {"c": {"content": "k=v"}},
     "service a's configs are copied in by Compose at the start"),
])
def test_compose_starts_a_project_whose_start_copies_files_in_or_runs_hooks(services, secrets, configs, needed):
    assert compose_start_needed(services, secrets, configs) == needed


class _EventsRefused:
    """A docker-py client whose engine lists the project's containers and starts them, then goes
    away when the event stream is opened (review 7, R-A)."""

    class api:  # noqa: N801 - docker-py's attribute name
        started: list[str] = []

        @staticmethod
        def containers(all, filters):  # noqa: A002 - docker-py's parameter name
            return [{"Id": "c-data", "State": "created", "Created": 1,
                     "Labels": {"com.docker.compose.service": "parity-data"}},
                    {"Id": "c-app", "State": "created", "Created": 1,
                     "Labels": {"com.docker.compose.service": "app"}}]

        @classmethod
        def start(cls, cid):
            cls.started.append(cid)

        @staticmethod
        def events(**kwargs):
            import requests.exceptions
            raise requests.exceptions.ConnectionError("engine went away")


def test_an_engine_failing_the_event_stream_is_one_line_in_the_engine_s_words_not_a_traceback():
    import time

    from parity.docker.compose import ComposeProject
    from parity.docker.liveproject import Waits
    from parity.docker.livestart import start_project
    from parity.errors import ParityError

    services = {"parity-data": {"image": "d"},
                "app": {"depends_on": {"parity-data": {"condition": COMPLETED, "required": True}}}}
    waits = Waits(ComposeProject("compose.yaml", "p", services, {}, "test"), 30)
    with pytest.raises(ParityError) as caught:
        start_project(_EventsRefused(), "p", services, time.monotonic() + 30, waits.engine)
    assert str(caught.value) == ("compose.yaml: the Docker engine failed (watching the throw-away project's "
                                 "containers): engine went away")
    assert _EventsRefused.api.started == ["c-data"]  # (the app waited for parity-data's completion: never started)
