"""Reading hostile input (issue 18): what parity reads is decided by the descriptor it opened, never by a
name that can change meanwhile; nothing it reads can hang it or blow it up; names print on one line.

The bad-input catalogue (tests/fixtures/bad/catalogue.yaml, "hostile reads") has the exact lines for a
FIFO or a device as a manifest, a symlink loop and a 2 GiB sparse file in a ``--secrets`` directory, and
file names with a newline, escape sequences or bytes that are not UTF-8. Here: the races, the bounds
and the text and JSON reports.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import threading

import pytest

from parity.errors import ParityError
from parity.kube import secretdirs
from parity.kube.secretdirs import load_secret_paths
from parity.output import printable
from parity.safefile import FileRefused, read_beneath, read_file

from .conftest import ROOT, run_parity, write

OUTSIDE_VALUE = b"outside-the-directory-hostile-read"
INSIDE_VALUE = b"inside-value"


@pytest.fixture
def swap_dir(tmp_path):
    """creds/token (a regular file), an outside file, and a ready symlink to it (token.lnk)."""
    (tmp_path / "outside").write_bytes(OUTSIDE_VALUE)
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "token").write_bytes(INSIDE_VALUE)
    return creds


def test_secrets_entry_swapped_for_a_symlink_after_its_check_is_refused_not_followed(swap_dir, monkeypatch):
    """The attacker wins the race: token is a regular file when parity looks at it and a symlink to a
    file outside the directory when parity opens it. The open (O_NOFOLLOW from the directory's
    descriptor) refuses it: one problem, the outside file never read."""
    check = secretdirs._secret_dir_entry

    def check_then_swap(*args, **kwargs):
        rel = check(*args, **kwargs)
        (swap_dir / "token").unlink()
        (swap_dir / "token").symlink_to(swap_dir.parent / "outside")
        return rel

    monkeypatch.setattr(secretdirs, "_secret_dir_entry", check_then_swap)
    with pytest.raises(ParityError) as err:
        load_secret_paths([f"creds={swap_dir}"])
    assert [str(p) for p in err.value.problems] == [
        f"{swap_dir}/token: Secret/creds: data[token]: changed to a symlink while read; refusing to follow it"]
    assert OUTSIDE_VALUE not in str(err.value).encode()


def test_secrets_entry_flipping_between_file_and_outside_symlink_never_yields_the_outside_file(swap_dir):
    """A real concurrent attacker renames a regular file and a symlink to an outside file over the
    entry as fast as it can while parity reads the directory again and again: each read gives the
    inside value or refuses the entry; the outside file's bytes never come back."""
    (swap_dir.parent / "regular").write_bytes(INSIDE_VALUE)
    stop = threading.Event()

    def flip():
        n = 0
        while not stop.is_set():
            n += 1
            staged = swap_dir.parent / f"staged-{n}"
            if n % 2:
                staged.symlink_to(swap_dir.parent / "outside")
            else:
                staged.write_bytes(INSIDE_VALUE)
            os.replace(staged, swap_dir / "token")  # atomic: the entry always exists

    flipper = threading.Thread(target=flip)
    flipper.start()
    seen = set()
    try:
        for _ in range(3000):
            try:
                secret = load_secret_paths([f"creds={swap_dir}"]).secrets[("default", "creds")]
                seen.add(secret.data.get("token"))
            except ParityError as exc:
                seen.add(str(exc))
    finally:
        stop.set()
        flipper.join()
    assert OUTSIDE_VALUE not in seen
    assert INSIDE_VALUE in seen  # the race was really run: some reads saw the regular file


def test_read_beneath_refuses_a_symlink_at_any_step(tmp_path):
    """The walk itself: a symlink as the file or as a directory on the way is refused, even when it
    points inside; a regular file beneath is read."""
    (tmp_path / "d" / "sub").mkdir(parents=True)
    (tmp_path / "d" / "sub" / "f").write_bytes(b"x")
    (tmp_path / "d" / "link").symlink_to("sub/f")
    (tmp_path / "d" / "sublink").symlink_to("sub")
    fd = os.open(tmp_path / "d", os.O_RDONLY | os.O_DIRECTORY)
    try:
        assert read_beneath(fd, "sub/f", 10) == b"x"
        for rel in ("link", "sublink/f"):
            with pytest.raises(FileRefused, match="changed to a symlink while read"):
                read_beneath(fd, rel, 10)
        with pytest.raises(FileRefused, match="leaves the directory"):
            read_beneath(fd, "../d/sub/f", 10)
    finally:
        os.close(fd)


def test_read_file_bounds(tmp_path):
    """Refused by fstat's size before any read; a file of exactly the limit is read; a FIFO's open does
    not block and it is refused; without following, a symlink is refused."""
    (tmp_path / "big").write_bytes(b"a" * 11)
    (tmp_path / "ten").write_bytes(b"a" * 10)
    with pytest.raises(FileRefused, match="^file is 11 bytes; parity reads at most 10$") as err:
        read_file(str(tmp_path / "big"), 10)
    assert err.value.size == 11
    assert read_file(str(tmp_path / "ten"), 10) == b"a" * 10
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(FileRefused, match=r"^not a regular file \(a FIFO\)"):
        read_file(str(tmp_path / "fifo"), 10)
    (tmp_path / "link").symlink_to("ten")
    with pytest.raises(FileRefused, match="^is a symlink; refusing to follow it$"):
        read_file(str(tmp_path / "link"), 10, follow_symlinks=False)


def _limited_address_space():
    resource.setrlimit(resource.RLIMIT_AS, (1024 ** 3, 1024 ** 3))  # 1 GiB: a 2 GiB read cannot fit


def test_huge_sparse_inputs_are_refused_by_size_not_read(tmp_path):
    """A 2 GiB sparse manifest and a 2 GiB sparse file in a --secrets directory, with parity's address
    space limited to 1 GiB: reading either whole would fail (MemoryError, a traceback); parity refuses
    each by its size alone, in one line, exit 2."""
    huge = tmp_path / "huge.yaml"
    with open(huge, "wb") as f:
        f.truncate(2 * 1024 ** 3)
    creds = tmp_path / "creds"
    creds.mkdir()
    os.link(huge, creds / "huge")
    pod = str(ROOT / "tests" / "fixtures" / "bad" / "support" / "pod-needs-creds.yaml")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    runs = [subprocess.run([sys.executable, "-m", "parity.cli", "layout", *args], capture_output=True, env=env,
                           preexec_fn=_limited_address_space, timeout=120)
            for args in ([str(huge)], [pod, "--secrets", str(creds)])]
    assert [(r.returncode, r.stdout, r.stderr.decode()) for r in runs] == [
        (2, b"", f"parity: {huge}: file is 2147483648 bytes; parity reads at most 67108864\n"),
        (2, b"", f"parity: {creds}: Secret/creds: data: data is 2147483648 bytes; a Secret holds at most 1048576\n"),
    ]


def test_a_fifo_as_manifest_or_compose_file_does_not_hang(tmp_path):
    """A FIFO nobody writes to, given as a manifest or as the compose file, is refused at once (the
    run would otherwise wait for a writer for ever: the timeout is the test's failure, not a bound)."""
    fifo = tmp_path / "in.yaml"
    os.mkfifo(fifo)
    manifest = subprocess.run([sys.executable, "-m", "parity.cli", "layout", str(fifo)], capture_output=True,
                              cwd=ROOT, timeout=60)
    assert (manifest.returncode, manifest.stderr.decode()) == (
        2, f"parity: {fifo}: not a regular file (a FIFO); parity reads regular files only\n")
    compose = subprocess.run([sys.executable, "-m", "parity.cli", "diff", str(ROOT / "manifests" / "api-gateway"),
                              "--compose", str(fifo)], capture_output=True, cwd=ROOT, timeout=60)
    assert (compose.returncode, compose.stderr.decode()) == (
        2, f"parity: {fifo}: not a regular file (a FIFO); parity reads regular files only\n")


def test_stdin_is_still_read_from_a_pipe(tmp_path):
    """``-`` is the one non-regular input parity reads (bounded like a file)."""
    text = (ROOT / "manifests" / "api-gateway" / "pod.yaml").read_text()
    result = run_parity("layout", "-", "--secrets", str(ROOT / "manifests" / "api-gateway"), input=text)
    assert result.returncode == 0, result.stderr


# ---------------------------------------------------------------------------------------------
# Names on one line


def test_printable_escapes_what_a_terminal_acts_on_and_leaves_plain_names_alone():
    assert printable("api-gateway/etc/tls.crt é 名前") == "api-gateway/etc/tls.crt é 名前"
    assert printable("a\\b") == "a\\b"
    assert printable("tok\nen\x1b[31m\\") == "tok\\nen\\x1b[31m\\"  # backslashes as written, as in Go-quoted names
    assert printable("\r\t\x00\x7f\x85\x9b") == "\\r\\t\\x00\\x7f\\x85\\x9b"
    assert printable("\u202eevil\u2066\u200b\u2028") == "\\u202eevil\\u2066\\u200b\\u2028"
    assert printable("bad\udcffname") == "bad\\xffname"  # a non-UTF-8 byte, as os.fsdecode gives it


ESCAPING_POD = """\
apiVersion: v1
kind: Pod
metadata: {name: names}
spec:
  containers:
    - name: app
      image: busybox:latest
      volumeMounts:
        - {name: cfg, mountPath: /etc/cfg}
  volumes:
    - name: cfg
      configMap:
        name: cfg
        items:
          - {key: k, path: "tok\\nen\\e[31m\\u202e.txt"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {k: v}
"""


def test_names_with_controls_print_escaped_on_one_line_in_text_and_stay_json(tmp_path):
    """An item path holding a newline, ESC and a bidi override (the API server accepts them): the text
    layout shows it escaped on one line; the JSON layout holds the name itself, as JSON escapes."""
    manifest = write(tmp_path, ESCAPING_POD)
    text = run_parity("layout", str(manifest))
    assert text.returncode == 0, text.stderr
    out = text.stdout.decode()
    assert not any(ch in out for ch in "\x1b\u202e")
    name = "tok\\nen\\x1b[31m\\u202e.txt"
    lines = [ln for ln in out.splitlines() if "tok\\n" in ln]  # (not the service-account token's lines)
    assert [ln.split("  ")[-1].strip() for ln in lines] == [f"..1970_01_01_00_00_00.304561939/{name}",
                                                    f"{name} -> ..data/{name}"]
    as_json = run_parity("layout", str(manifest), "--format", "json")
    assert as_json.returncode == 0 and b"\x1b" not in as_json.stdout
    paths = json.dumps(json.loads(as_json.stdout))
    assert "tok\\nen\\u001b[31m\\u202e.txt" in paths


# ---------------------------------------------------------------------------------------------
# kubeconfig


def test_a_kubeconfig_fifo_is_refused_and_a_bad_value_in_it_is_not_printed(tmp_path):
    """The kubeconfig is user input too: a FIFO is refused at once (it hung), and a credential that
    YAML cannot construct (``!!int`` on a token) is a position, not a traceback quoting the token."""
    fifo = tmp_path / "kubeconfig.fifo"
    os.mkfifo(fifo)
    bad = tmp_path / "kubeconfig"
    bad.write_text("apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user: {token: !!int kc-secret-token-value}\n")
    runs = [subprocess.run([sys.executable, "-m", "parity.cli", "layout", "--from-cluster", "pod/x", "--kubeconfig",
                            str(path)], capture_output=True, cwd=ROOT, timeout=60) for path in (fifo, bad)]
    assert [(r.returncode, r.stderr.decode()) for r in runs] == [
        (2, f"parity: kubeconfig {fifo}: not a regular file (a FIFO); parity reads regular files only\n"),
        (2, f"parity: kubeconfig {bad}: invalid YAML at line 5, column 17\n"),
    ]
    assert b"kc-secret-token-value" not in runs[1].stdout + runs[1].stderr


def test_a_manifest_directory_2000_levels_deep_is_walked_not_a_traceback(tmp_path):
    """A directory tree deeper than Python's recursion limit (``Path.rglob`` raised RecursionError):
    walked, and the manifest at the bottom is read."""
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(2000):
            os.mkdir("d", dir_fd=fd)
            deeper = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = deeper
        pod = (ROOT / "tests" / "fixtures" / "bad" / "support" / "pod-needs-creds.yaml").read_bytes()
        out = os.open("pod.yaml", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(out, pod.replace(b"secret: {secretName: creds}", b"secret: {secretName: creds, optional: true}"))
        os.close(out)
    finally:
        os.close(fd)
    try:
        result = run_parity("layout", str(tmp_path))
    finally:
        _remove_chain(tmp_path)
    assert (result.returncode, result.stderr) == (0, b"")
    assert result.stdout.startswith(b"Pod/bad-needs-creds  (namespace default)\n")


def _remove_chain(root) -> None:
    """Remove root/d/d/.../d one level at a time (shutil.rmtree, and so pytest's clean-up of old
    temporary directories, recurses and would fail on it): the second level is renamed up, the
    emptied first removed."""
    top, spare = root / "d", root / "spare"
    while top.exists():
        for entry in top.iterdir():
            if entry.name == "d":
                entry.rename(spare)
            else:
                entry.unlink()
        top.rmdir()
        if spare.exists():
            spare.rename(top)


# ---------------------------------------------------------------------------------------------
# The last guard: no error line holds a Secret value, whoever wrote the message


def test_an_error_line_quoting_a_secret_value_is_printed_without_it(tmp_path, capsys):
    """Whatever text an engine or a tool puts into a message (here a ParityError quoting the value
    and its base64, as ``docker`` quotes a container's environment back), once parity has read the
    Secret, the line printed on stderr holds neither; the rest of the line is kept."""
    from parity.cli import handle_errors
    from parity.kube.manifests import load_inputs

    manifest = write(tmp_path, "apiVersion: v1\nkind: Secret\nmetadata: {name: creds}\n"
                               "stringData: {token: last-guard-secret-value}\n")
    load_inputs([str(manifest)])

    @handle_errors
    def fails():
        raise ParityError("starting app failed: invalid environment variable: =last-guard-secret-value "
                          "(bGFzdC1ndWFyZC1zZWNyZXQtdmFsdWU=)")

    with pytest.raises(SystemExit) as exit_:
        fails()
    assert exit_.value.code == 2
    assert capsys.readouterr().err == ("parity: starting app failed: invalid environment variable: =(not shown) "
                                       "((not shown))\n")
