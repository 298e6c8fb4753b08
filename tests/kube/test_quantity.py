"""Quantities the downward API reads (``resourceFieldRef``), as apimachinery's ``ParseQuantity``
reads them (``pkg/api/resource/suffix.go``: decimal suffixes ``n u m "" k M G T P E``, binary
``Ki`` to ``Ei``, exponents ``e``/``E``)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from parity.kube import quantity

from .test_kubelet import layout_of, pod, resource_field_files


@pytest.mark.parametrize("text, value", [
    ("500000u", Fraction(1, 2)), ("1n", Fraction(1, 10 ** 9)), ("250000000n", Fraction(1, 4)),
    ("1.5u", Fraction(3, 2 * 10 ** 6)), ("2", 2), ("500m", Fraction(1, 2)), ("1e3", 1000), ("1Ki", 1024),
])
def test_nano_and_micro_suffixes_are_quantities(text, value):
    assert quantity.parse(text) == value


def test_nano_and_micro_quantities_reach_the_downward_api(tmp_path):
    """issue 14: ``cpu: 500000u`` was refused as an invalid quantity; the kubelet writes the
    millicores, rounded up: 500000u -> 500, 1n -> 1."""
    got = resource_field_files(tmp_path, "{limits: {cpu: 500000u}, requests: {cpu: 1n}}",
                               "lim limits.cpu 1m", "req requests.cpu 1m", "cores limits.cpu 1000000u")
    assert got == {"lim": b"500", "req": b"1", "cores": b"1"}


@pytest.mark.parametrize("text", ['"1e400"', '"1e999999999"', '"12345678901234567890123"', '"9' + "9" * 5000 + '"'])
def test_quantities_beyond_int64_end_at_once_and_are_said_to_be_unpredicted(tmp_path, text):
    """issue 18: ``memory: 1e999999999`` never ended (10**999999999 was built), ``1e400`` was a
    traceback. The kubelet's arithmetic is int64: past it, the file is volatile (not predicted)."""
    containers = f"""
  containers:
  - name: app
    image: x
    resources: {{limits: {{memory: {text}}}}}
    volumeMounts: [{{name: v, mountPath: /r}}]"""
    text = pod("downwardAPI: {items: [{path: mem, resourceFieldRef: {containerName: app, resource: limits.memory}}]}",
               containers=containers)
    (path, entry), = layout_of(tmp_path, text).containers[0].visible_files()
    assert (path, entry.volatile) == (
        "/r/mem", "limits.memory is beyond the kubelet's int64 arithmetic: content not predicted")


@pytest.mark.parametrize("text, value", [
    ("1e-999999999", Fraction(1, 10 ** 9)), ("0.0000000001", Fraction(1, 10 ** 9)),
    ("-0.0000000001", Fraction(-1, 10 ** 9)), ("0." + "0" * 5000 + "1", Fraction(1, 10 ** 9)),
    ("99999999999Ei", 2 ** 63 - 1), ("0.5Ki", 512),
])
def test_quantities_round_up_to_1n_and_binary_ones_cap_at_int64(text, value):
    """``ParseQuantity`` rounds a non-zero value up (away from zero) to 1n and caps binary-suffixed
    values at 2^63-1; tiny values with thousands of digits are read without building them."""
    assert quantity.parse(text) == value


def _reference(text: str) -> Fraction:
    """The plain reading: Fraction of the number, times 10**exponent and the suffix, rounded up
    away from zero to 1n (for the small exponents the property below draws), binary suffixes capped at 2^63-1."""
    import math
    import re
    number, exponent, suffix = re.fullmatch(r"([+-]?[0-9.]+)(?:[eE]([+-]?[0-9]+))?(\D*)", text).groups()
    value = Fraction(number) * Fraction(10) ** int(exponent or 0) * Fraction(*quantity._SUFFIXES[suffix])
    nanos = math.ceil(abs(value) * 10 ** 9)
    if suffix.endswith("i"):  # binary suffixes are capped at 2^63-1
        nanos = min(nanos, (2 ** 63 - 1) * 10 ** 9)
    return Fraction(nanos if value >= 0 else -nanos, 10 ** 9)


from hypothesis import given, strategies as st  # noqa: E402


@given(st.integers(0, 10 ** 12), st.integers(0, 10 ** 6), st.integers(0, 6), st.sampled_from(["", "-", "+"]),
       st.one_of(st.sampled_from(list(quantity._SUFFIXES)), st.integers(-25, 12).map(lambda e: f"e{e}")))
def test_parse_agrees_with_the_plain_fraction_reading(whole, frac, frac_zeros, sign, suffix):
    text = f"{sign}{whole}.{'0' * frac_zeros}{frac}{suffix}"
    assert quantity.parse(text) == _reference(text)


def test_a_malformed_quantity_is_refused_where_it_is_written_as_the_api_server_does(tmp_path):
    """issue 14: a bad quantity was only noticed when a resourceFieldRef read it, and then named the
    downward-API item; the API server's decoder refuses it at the resource itself, read or not."""
    from ..conftest import run_parity, write

    path = write(tmp_path, """\
        apiVersion: v1
        kind: Pod
        metadata: {name: q}
        spec:
          containers:
            - name: a
              image: busybox:latest
              resources: {limits: {cpu: 5x00u, memory: 1e400}, requests: {cpu: 500000u}}
        """)
    result = run_parity("layout", str(path))
    assert (result.returncode, result.stderr.decode()) == (2, (
        f"parity: {path}: Pod/q: spec.containers[0].resources.limits[cpu]: \"5x00u\": quantities must match the "
        "regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'\n"))


def test_a_divisor_the_api_server_does_not_allow_is_refused_with_its_message(tmp_path):
    """validation.go validateContainerResourceDivisor: cpu takes 1m or 1, memory 1, 1k ... 1Ei (by
    value: 1000m is 1); "1e-999999999" was accepted."""
    import json

    from ..conftest import run_parity, write

    def pod(cpu_divisor: str, memory_divisor: str) -> str:
        return f"""\
            apiVersion: v1
            kind: Pod
            metadata: {{name: d}}
            spec:
              containers: [{{name: a, image: busybox:latest, resources: {{limits: {{cpu: "2", memory: 64Mi}}}},
                            volumeMounts: [{{name: i, mountPath: /i}}]}}]
              volumes:
                - name: i
                  downwardAPI:
                    items:
                      - {{path: c, resourceFieldRef: {{containerName: a, resource: limits.cpu, divisor: "{cpu_divisor}"}}}}
                      - {{path: m, resourceFieldRef: {{containerName: a, resource: limits.memory, divisor: "{memory_divisor}"}}}}
            """
    good = run_parity("layout", str(write(tmp_path, pod("1000m", "1Mi"), "good.yaml")), "--format", "json")
    assert good.returncode == 0, good.stderr.decode()
    files = {f["path"]: f["size"] for f in json.loads(good.stdout)["workloads"][0]["containers"][0]["files"]}
    sa = "/var/run/secrets/kubernetes.io/serviceaccount"  # added at admission (kubelet-model §7.5)
    assert files == {"/i/c": 1, "/i/m": 2,  # "2" and "64"
                     f"{sa}/ca.crt": 25, f"{sa}/namespace": 7, f"{sa}/token": 24}
    path = write(tmp_path, pod("2", "1e-999999999"), "bad.yaml")
    bad = run_parity("layout", str(path))
    where = f"parity: {path}: Pod/d: spec.volumes[0].downwardAPI.items"
    assert (bad.returncode, bad.stderr.decode().splitlines()) == (2, [
        f'{where}[0].resourceFieldRef.divisor: Invalid value: "limits.cpu": only divisor\'s values 1m and 1 are '
        "supported with the cpu resource",
        f'{where}[1].resourceFieldRef.divisor: Invalid value: "limits.memory": only divisor\'s values 1, 1k, 1M, 1G, '
        "1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the memory resource"])


def test_a_zero_divisor_is_the_unset_one_and_divides_by_1(tmp_path):
    """The zero Quantity is an unset divisor: the API server accepts it (validateContainerResourceDivisor
    returns at ``unsetDivisor.Cmp(divisor) == 0``) and the kubelet divides by 1
    (``ExtractContainerResourceValue``). parity refused "0" as a divisor the API server does not allow."""
    import json

    from ..conftest import run_parity, write

    path = write(tmp_path, """\
        apiVersion: v1
        kind: Pod
        metadata: {name: d}
        spec:
          containers:
          - name: a
            image: busybox:latest
            resources: {limits: {cpu: "2", memory: 64Mi}}
            env: [{name: M, valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: "0"}}}]
            volumeMounts: [{name: i, mountPath: /i}]
          volumes:
            - name: i
              downwardAPI:
                items:
                  - {path: c, resourceFieldRef: {containerName: a, resource: limits.cpu, divisor: "0"}}
                  - {path: m, resourceFieldRef: {containerName: a, resource: limits.memory, divisor: 0}}
        """)
    result = run_parity("layout", str(path), "--format", "json")
    assert result.returncode == 0, result.stderr.decode()
    files = {f["path"]: f["size"] for f in json.loads(result.stdout)["workloads"][0]["containers"][0]["files"]}
    sa = "/var/run/secrets/kubernetes.io/serviceaccount"  # added at admission (kubelet-model §7.5)
    assert files == {"/i/c": 1, "/i/m": 8,  # "2" and "67108864"
                     f"{sa}/ca.crt": 25, f"{sa}/namespace": 7, f"{sa}/token": 24}
    out = tmp_path / "out"
    assert run_parity("k8s-to-docker", str(path), "-o", str(out)).returncode == 0
    assert "M: '67108864'" in (out / "compose.yaml").read_text()


@given(st.one_of(
    st.text(alphabet="0123456789.+-eEnumkKMGTPi x", max_size=12),
    st.builds(lambda n, s: n + s, st.from_regex(r"[+-]?[0-9.]{0,6}(?:[eE][+-]?[0-9]{0,30})?", fullmatch=True),
              st.sampled_from(["", *quantity._SUFFIXES, "Ki ", " "]))))
def test_check_refuses_exactly_the_texts_parse_refuses(text):
    """``quantity.check`` (the resources' check, which does not work out the value: issue 17)
    refuses what ``parse`` refuses as no quantity, and takes what it reads, beyond int64 included."""
    try:
        quantity.parse(text)
        parsed = True
    except quantity.QuantityOverflow:
        parsed = True  # a valid quantity, only too big for the kubelet's arithmetic
    except ValueError:
        parsed = False
    try:
        quantity.check(text)
        checked = True
    except ValueError:
        checked = False
    assert checked == parsed
