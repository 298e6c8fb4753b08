"""Where manifests come from, with kubectl's input flags: ``-f FILE|DIR|-`` (a directory's own files,
all of them below it with ``-R``), ``-k DIR`` (a kustomization, rendered by ``kubectl kustomize`` or
``kustomize build``), beside parity's positional MANIFEST... (directories walked recursively). Helm
charts and kustomizations given as plain directories are recognised and refused with the command that
renders them (their files are templates or patches, not the objects the cluster receives).
"""

from __future__ import annotations

import os

from ..errors import ParityError, Problem
from ..safefile import FileRefused, read_stream
from ..values import Value, valueclass

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
#: The files that make a directory a kustomization (kustomize's own list, konfig.RecognizedKustomizationFileNames).
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
CHART_FILE = "Chart.yaml"
KUSTOMIZE_TIMEOUT = 120  # seconds for rendering one kustomization


@valueclass
class Rendered(Value):
    """Manifests produced by a command (``-k``) rather than read from a file.

    Attributes:
        name: how messages name it: ``kustomize:DIR``.
        text: the rendered YAML stream (it may hold Secret values: kept in memory only).
    """

    name: str
    text: str


def gather(positional: tuple[str, ...], filenames: tuple[str, ...], recursive: bool,
           kustomizations: tuple[str, ...]) -> list[str | Rendered]:
    """Every input of a command line, in order: positional paths, then ``-f``, then ``-k``.

    Args:
        positional: MANIFEST... (files, directories walked recursively, ``-``).
        filenames: ``-f`` values: a directory gives its own manifest files unless ``recursive``.
        recursive: ``-R``: ``-f`` directories are walked as positional ones are.
        kustomizations: ``-k`` directories, rendered here.
    Returns:
        Paths (``-`` for stdin) and rendered streams, for ``load_inputs``.
    Raises:
        ParityError: a chart or kustomization given as a plain directory; a ``-k`` that cannot be rendered.
    """
    out: list[str | Rendered] = []
    for path in (*positional, *filenames):
        refuse_unrendered(path)
    out.extend(positional)
    for path in filenames:
        if os.path.isdir(path) and not recursive:
            found = sorted(e.path for e in os.scandir(path)
                           if os.path.splitext(e.name)[1] in MANIFEST_SUFFIXES and not e.is_dir())
            if not found:
                raise ParityError(Problem("directory holds no *.yaml, *.yml or *.json file (-R reads the ones "
                                          "below it)", file=path))
            out.extend(found)
        else:
            out.append(path)
    out.extend(render_kustomization(d) for d in kustomizations)
    return out


def refuse_unrendered(path: str) -> None:
    """A Helm chart or a kustomization given where manifests go: say how to render it.

    Raises:
        ParityError: ``path`` is a directory holding ``Chart.yaml`` or a kustomization file.
    """
    if path == "-" or not os.path.isdir(path):
        return
    if os.path.isfile(os.path.join(path, CHART_FILE)):
        raise ParityError(Problem(f"a Helm chart, not manifests: render it first (helm template NAME {path} | "
                                  "parity COMMAND -)", file=path))
    if any(os.path.isfile(os.path.join(path, f)) for f in KUSTOMIZATION_FILES):
        raise ParityError(Problem(f"a kustomization, not manifests: give it as -k {path} (rendered with kubectl "
                                  f"kustomize), or kubectl kustomize {path} | parity COMMAND -", file=path))


def render_kustomization(directory: str) -> Rendered:
    """``kubectl kustomize DIR`` (else ``kustomize build DIR``), as ``kubectl apply -k`` renders it.

    Raises:
        ParityError: not a kustomization, no tool to render it, or the tool failed. Its output is never
            shown (a secretGenerator's values may be in it).
    """
    import shutil  # here, as subprocess: -k is rare, and every command that reads manifests imports this
    import subprocess

    name = f"kustomize:{directory}"
    if not any(os.path.isfile(os.path.join(directory, f)) for f in KUSTOMIZATION_FILES):
        raise ParityError(Problem(f"-k: no {KUSTOMIZATION_FILES[0]} here", file=directory))
    if shutil.which("kubectl"):
        command = ["kubectl", "kustomize", directory]
    elif shutil.which("kustomize"):
        command = ["kustomize", "build", directory]
    else:
        raise ParityError(Problem("-k needs kubectl or kustomize on PATH to render the kustomization; or render "
                                  f"it elsewhere and pipe it in: kustomize build {directory} | parity COMMAND -",
                                  file=directory))
    try:
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        try:
            raw = read_stream(proc.stdout)
        finally:
            proc.stdout.close()
            code = proc.wait(timeout=KUSTOMIZE_TIMEOUT)
    except FileRefused as exc:
        proc.kill()
        raise ParityError(Problem(f"{' '.join(command[:2])}: {exc.reason}", file=directory)) from None
    except subprocess.TimeoutExpired:
        proc.kill()
        raise ParityError(Problem(f"{' '.join(command[:2])} did not finish in {KUSTOMIZE_TIMEOUT} s",
                                  file=directory)) from None
    if code != 0:
        raise ParityError(Problem(f"{' '.join(command[:2])} failed (exit {code}); run `{' '.join(command)}` to see "
                                  "why (parity does not show its output: it may hold secret values)", file=directory))
    try:
        return Rendered(name, raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ParityError(Problem(f"not UTF-8 text (byte {exc.start})", file=name)) from None
