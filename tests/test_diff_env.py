"""``parity diff``'s environment facet (``parity/envfacet.py``) without an engine: the variables the
kubelet gives each container against those the compose service gives it, never a value.

The setups are ``tests/diffcases.py``'s ``env-*`` cases (``tests/test_diff_static.py`` holds each to
its exact set of differences, ``tests/live/test_diff_live.py`` the live diff to the same facts); here
the exact lines a reader sees, the JSON shape, and that no value (nor a Secret's digest) shows.
"""

from __future__ import annotations

import json

import yaml

from parity.docker.env import container_env
from parity.envfacet import Variable, cluster_environment, compose_environment, engine_environment, with_image
from parity.kube.manifests import load_inputs

from .conftest import run_parity
from .diffcases import (ARTICLE, ENV_APP, ENV_PASSWORD, ENV_PASSWORD_CHANGED, case_article,
                        case_env_missing, case_env_secret_changed, case_env_value_changed, env_manifests, generate,
                        run_diff, sha12)

POD_IP_NOTES = ["  note: app: POD_IP: compared by presence only: no local value (set to empty): the pod's IP in "
                "the cluster network",
                "  note: app: LISTEN: compared by presence only: it expands $(POD_IP), whose value is not known here"]


def text_of(case) -> tuple[int, list[str], bytes]:
    """(exit code, stdout lines after the title, stderr) of a static diff of ``case``."""
    result = run_diff(*case.manifests, "--compose", str(case.compose))
    return result.returncode, result.stdout.decode().splitlines()[1:], result.stderr


def json_of(case) -> dict:
    return json.loads(run_diff(*case.manifests, "--compose", str(case.compose), "--format", "json").stdout)


def test_a_changed_value_and_an_extra_variable_show_digests_never_values(tmp_path):
    """LOG_LEVEL set by hand to ``debug`` where the ConfigMap says ``info``: both sides' size and short
    digest; DEBUG, which the pod does not have: "set"; POD_IP (status.podIP) set to an address the
    cluster could not have given: no difference, compared by presence only, and said."""
    code, lines, err = text_of(case_env_value_changed(tmp_path))
    assert (code, err) == (1, b"")
    assert lines == [
        "  container app <-> service app",
        "    environment         (env DEBUG)  cluster: not set  here: set",
        "                        the cluster does not give the container this variable",
        f"    environment         (env LOG_LEVEL)  cluster: 4 bytes {sha12('info')}  here: 5 bytes {sha12('debug')}",
        "                        the value differs (from envFrom ConfigMap settings)",
        *POD_IP_NOTES,
        "2 differences in 1 container"]


def test_a_missing_secret_variable_names_where_it_comes_from_never_its_value(tmp_path):
    """The password's line dropped from the env file: missing, from Secret db key password, no digest;
    POD_IP dropped: missing too (presence is compared even where the value is not)."""
    code, lines, err = text_of(case_env_missing(tmp_path))
    assert (code, err) == (1, b"")
    assert lines == [
        "  container app <-> service app",
        "    environment         (env DATABASE_PASSWORD)  cluster: set (a Secret's value: not shown)  here: not set",
        "                        the cluster gives it (from Secret db, key password); here the process does not "
        "have it",
        "    environment         (env POD_IP)  cluster: set (its value is not known here)  here: not set",
        "                        the cluster gives it (from fieldRef status.podIP); here the process does not have "
        "it; compared by presence only: no local value (set to empty): the pod's IP in the cluster network",
        *POD_IP_NOTES,
        "2 differences in 1 container"]


def test_a_changed_secret_shows_neither_value_nor_digest(tmp_path):
    """The env file holds another password than the Secret: DATABASE_PASSWORD and DSN (which expands
    it) differ; neither password, nor its base64, nor a digest of either, is on stdout or stderr, in
    text or JSON (a short digest of a short password can be reversed by trying them)."""
    import base64

    case = case_env_secret_changed(tmp_path)
    code, lines, err = text_of(case)
    assert (code, err) == (1, b"")
    assert lines == [
        "  container app <-> service app",
        "    environment         (env DATABASE_PASSWORD)  cluster: set (a Secret's value: not shown)  here: set to "
        "another value (not shown)",
        "                        the value differs (from Secret db, key password)",
        "    environment         (env DSN)  cluster: set (a Secret's value: not shown)  here: set to another value "
        "(not shown)",
        "                        the value differs (from a value in the pod spec expanding $(DATABASE_PASSWORD))",
        *POD_IP_NOTES,
        "2 differences in 1 container"]
    doc = json_of(case)
    for result in (run_diff(*case.manifests, "--compose", str(case.compose)),
                   run_diff(*case.manifests, "--compose", str(case.compose), "--format", "json")):
        for value in (ENV_PASSWORD, ENV_PASSWORD_CHANGED, f"postgres://app:{ENV_PASSWORD}@db",
                      f"postgres://app:{ENV_PASSWORD_CHANGED}@db"):
            for shown in (value, base64.b64encode(value.encode()).decode(), sha12(value)[7:]):
                assert shown.encode() not in result.stdout and shown.encode() not in result.stderr
    assert doc["differences"][0] == {
        "container": ENV_APP, "path": "(env DATABASE_PASSWORD)", "kind": "environment",
        "expected": "set (a Secret's value: not shown)", "actual": "set to another value (not shown)",
        "detail": "the value differs (from Secret db, key password)"}
    assert doc["equal"] is False


def test_the_kubelets_service_variables_missing_are_one_difference_naming_them(tmp_path):
    """The article's hand-written compose file sets none of the kubelet's service variables: one
    difference lists the eight the kubelet gives (the ``kubernetes`` Service's), not eight lines."""
    case = case_article(tmp_path)
    doc = json_of(case)
    (d,) = [d for d in doc["differences"] if d["kind"] == "environment"]
    assert d == {
        "container": "api-gateway", "path": "(env: service variables)", "kind": "environment",
        "expected": "8 variables",
        "actual": "8 not set: KUBERNETES_PORT, KUBERNETES_PORT_443_TCP, KUBERNETES_PORT_443_TCP_ADDR, "
                  "KUBERNETES_PORT_443_TCP_PORT, KUBERNETES_PORT_443_TCP_PROTO, KUBERNETES_SERVICE_HOST, "
                  "KUBERNETES_SERVICE_PORT, KUBERNETES_SERVICE_PORT_HTTPS",
        "detail": "the kubelet gives every container KUBERNETES_SERVICE_* and, with enableServiceLinks, "
                  "NAME_SERVICE_HOST/_PORT... of each Service of its namespace (k8s-to-docker writes them; those "
                  "holding a cluster IP are compared by presence only)"}


def test_a_service_variable_holding_the_cluster_ip_is_compared_by_presence_a_port_by_value(tmp_path):
    """KUBERNETES_SERVICE_HOST set to an address (the cluster's is its cluster IP, which parity cannot
    know): no difference; KUBERNETES_SERVICE_PORT set to another port: a difference."""
    compose = generate(tmp_path / "out", ARTICLE)
    config = yaml.safe_load(compose.read_text())
    config["services"]["api-gateway"]["environment"].update(
        {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "6443"})
    compose.write_text(yaml.safe_dump(config))
    doc = json.loads(run_diff(str(ARTICLE), "--compose", str(compose), "--format", "json").stdout)
    assert [(d["path"], d["expected"], d["actual"]) for d in doc["differences"]] == [
        ("(env KUBERNETES_SERVICE_PORT)", f"3 bytes {sha12('443')}", f"4 bytes {sha12('6443')}")]


def test_a_dollar_in_a_value_is_compared_as_the_process_gets_it(tmp_path):
    """``docker compose config`` prints ``$`` as ``$$`` (its output is a compose file again): the
    generated setup's ``5$$ or $$(LOG_LEVEL)`` (the kubelet gives ``5$ or $(LOG_LEVEL)``: ``$$(`` is a
    literal ``$(``), printed ``5$$$$ or $$$$(LOG_LEVEL)`` by Compose, is read back as the process gets
    it, so it is equal; another value differs, by digest (compared escaped, every ``$`` would be a
    false difference)."""
    manifests = env_manifests(tmp_path)
    compose = generate(tmp_path / "out", manifests)
    config = yaml.safe_load(compose.read_text())
    assert config["services"][ENV_APP]["environment"]["PRICE"] == "5$$ or $$(LOG_LEVEL)"
    assert run_diff(str(manifests), "--compose", str(compose)).returncode == 0
    config["services"][ENV_APP]["environment"]["PRICE"] = "5$$ or info"
    compose.write_text(yaml.safe_dump(config))
    doc = json.loads(run_diff(str(manifests), "--compose", str(compose), "--format", "json").stdout)
    assert [(d["path"], d["expected"], d["actual"]) for d in doc["differences"]] == [
        ("(env PRICE)", f"18 bytes {sha12('5$ or $(LOG_LEVEL)')}", f"10 bytes {sha12('5$ or info')}")]


def test_without_compose_a_service_with_env_file_is_said_not_compared(tmp_path):
    """parity's fallback reader (no Compose on PATH) does not read ``env_file``: the environment of a
    service that has one is not compared, and the report says so (no false "missing")."""
    manifests = env_manifests(tmp_path)
    compose = generate(tmp_path / "out", manifests)
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_parity("diff", str(manifests), "--compose", str(compose), "--format", "json",
                        env={"PATH": str(empty)})
    doc = json.loads(result.stdout)
    assert (result.returncode, doc["differences"]) == (0, [])
    assert ("app: environment not compared: service app reads env_file, which only Compose reads (parity's "
            "fallback reader does not)") in doc["notes"]


def test_without_compose_environment_is_compared_as_written(tmp_path):
    """parity's fallback reader: ``environment`` in list form, interpolated (``$$`` is ``$``), a name
    without a value unset; the same verdict as Compose's on the same file."""
    compose = tmp_path / "compose.yaml"
    manifests = tmp_path / "pod.yaml"
    manifests.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  automountServiceAccountToken: false\n"
                         "  containers:\n    - name: app\n      image: busybox:latest\n"
                         "      env: [{name: A, value: 'x$y'}, {name: B, value: b}]\n")
    generated = generate(tmp_path / "out", manifests)
    config = yaml.safe_load(generated.read_text())
    config["services"]["app"]["environment"] = [f"{k}={v}" for k, v in config["services"]["app"]["environment"].items()
                                                if k != "B"] + ["B"]
    compose.write_text(yaml.safe_dump(config))
    (tmp_path / "out" / "compose.yaml").write_text(yaml.safe_dump(config))
    empty = tmp_path / "empty"
    empty.mkdir()
    fallback = run_parity("diff", str(manifests), "--compose", str(generated), "--format", "json",
                          env={"PATH": str(empty)})
    real = run_parity("diff", str(manifests), "--compose", str(generated), "--format", "json")
    for result in (fallback, real):
        doc = json.loads(result.stdout)
        assert (result.returncode, [(d["path"], d["actual"]) for d in doc["differences"]]) == (
            1, [("(env B)", "not set")])


def test_the_cluster_side_says_where_each_value_comes_from(tmp_path):
    """``docker/env.container_env`` (the one home of the kubelet's rules) records each variable's
    origin, whether it holds a Secret's value and whether its value is known; ``with_image`` lays it
    over the image's ENV (a variable the pod sets wins); ``engine_environment`` drops an entry without
    ``=`` (no variable)."""
    inputs = load_inputs([str(env_manifests(tmp_path))])
    (w,) = inputs.workloads
    env = cluster_environment(container_env(w, w.spec.containers[0], inputs))
    assert {k: (v.origin, v.secret, v.unknown is not None) for k, v in env.items()
            if not k.startswith("KUBERNETES_")} == {
        "LOG_LEVEL": ("envFrom ConfigMap settings", False, False),
        "MODE": ("envFrom ConfigMap settings", False, False),
        "TEMPLATE": ("envFrom ConfigMap settings", False, False),
        "DATABASE_PASSWORD": ("Secret db, key password", True, False),
        "GREETING": ("a value in the pod spec expanding $(LOG_LEVEL)", False, False),
        "POD_IP": ("fieldRef status.podIP", False, True),
        "DSN": ("a value in the pod spec expanding $(DATABASE_PASSWORD)", True, False),
        "PRICE": ("a value in the pod spec", False, False),
        "LISTEN": ("a value in the pod spec expanding $(POD_IP)", False, True)}
    assert env["GREETING"].value == "hello info" and env["PRICE"].value == "5$ or $(LOG_LEVEL)"
    assert env["KUBERNETES_SERVICE_HOST"].unknown and env["KUBERNETES_SERVICE_PORT"].unknown is None
    assert with_image({"A": Variable("pod", "x")}, {"A": "image", "PATH": "/bin"}) == {
        "A": Variable("pod", "x"), "PATH": Variable("/bin", "the image's ENV")}
    assert engine_environment(["A=1", "B", "C=", "A=2"]) == {"A": "2", "C": ""}
    assert compose_environment({"environment": {"A": "a$$b", "B": None, "C": 5}}, escaped=True) == {"A": "a$b",
                                                                                                    "C": "5"}


def test_a_variable_from_a_secret_the_input_lacks_is_refused_as_k8s_to_docker_refuses_it(tmp_path):
    """A variable that needs a Secret the input lacks (not optional): the container would not start in
    the cluster (CreateContainerConfigError); diff says so in k8s-to-docker's line, exit 2, nothing on
    stdout (it compared the files and exited 1, as if the container ran)."""
    pod = tmp_path / "pod.yaml"
    pod.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  automountServiceAccountToken: false\n"
                   "  containers:\n    - name: app\n      image: busybox:latest\n"
                   "      env: [{name: A, valueFrom: {secretKeyRef: {name: nope, key: k}}}]\n")
    compose = tmp_path / "compose.yaml"
    compose.write_text("services:\n  app:\n    image: busybox:latest\n")
    line = (f"parity: {pod}: Pod/p: spec.containers[0].env[0].valueFrom.secretKeyRef: secret \"nope\" not found "
            "(not optional: the container would fail with CreateContainerConfigError)\n")
    result = run_parity("diff", str(pod), "--compose", str(compose))
    assert (result.returncode, result.stdout, result.stderr.decode()) == (2, b"", line)
    generated = run_parity("k8s-to-docker", str(pod), "-o", str(tmp_path / "out"))
    assert (generated.returncode, generated.stderr.decode()) == (2, line)


def test_a_configmaps_binarydata_key_is_no_variable_of_the_cluster_side(tmp_path):
    """envFrom a ConfigMap with ``data`` and ``binaryData``: the kubelet sets ``data``'s keys only
    (``makeEnvironmentVariables``). A service setting TEXT_KEY (and the service variables) is the
    same; one also setting BIN_KEY, as k8s-to-docker wrote it, has an extra variable (parity called
    the first "not set" and the second the same)."""
    pod = tmp_path / "pod.yaml"
    pod.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {TEXT_KEY: v}\n"
                   "binaryData: {BIN_KEY: dGVuYW50LWE=}\n---\n"
                   "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  automountServiceAccountToken: false\n"
                   "  containers:\n    - name: web\n      image: busybox:latest\n"
                   "      envFrom: [{configMapRef: {name: cfg}}]\n")
    inputs = load_inputs([str(pod)])
    (w,) = inputs.workloads
    services = {k: v for k, v in container_env(w, w.spec.containers[0], inputs).plain.items()
                if k.startswith("KUBERNETES_")}
    for extra, lines in (({}, []), ({"BIN_KEY": "tenant-a"}, [
            "    environment         (env BIN_KEY)  cluster: not set  here: set",
            "                        the cluster does not give the container this variable"])):
        compose = tmp_path / "compose.yaml"
        compose.write_text(yaml.safe_dump({"services": {"web": {"image": "busybox:latest", "environment": {
            "TEXT_KEY": "v", **services, **extra}}}}))
        result = run_diff(str(pod), "--compose", str(compose))
        assert [line for line in result.stdout.decode().splitlines()
                if "(env" in line or line.startswith("                        the cluster does not")] == lines
