"""Which workloads a command works on: ``--workload [NS/]KIND/NAME`` (kubectl's short kinds, groups and
versions), ``-l`` label selectors, and what the choice leaves out (Helm hooks, workloads a controller
in the input makes), said rather than dropped.
"""

from __future__ import annotations

import re

from ..errors import ParityError, Problem
from .manifests import TEMPLATE_PATHS, Inputs, Workload
from .names import dns1123_label_errors, go_quote, invalid, object_name_errors, shown


KIND_ALIASES = {
    "po": "Pod", "pod": "Pod", "pods": "Pod",
    "deploy": "Deployment", "deployment": "Deployment", "deployments": "Deployment",
    "rs": "ReplicaSet", "replicaset": "ReplicaSet", "replicasets": "ReplicaSet",
    "rc": "ReplicationController", "replicationcontroller": "ReplicationController",
    "replicationcontrollers": "ReplicationController",
    "sts": "StatefulSet", "statefulset": "StatefulSet", "statefulsets": "StatefulSet",
    "ds": "DaemonSet", "daemonset": "DaemonSet", "daemonsets": "DaemonSet",
    "job": "Job", "jobs": "Job", "cj": "CronJob", "cronjob": "CronJob", "cronjobs": "CronJob",
    "podtemplate": "PodTemplate", "podtemplates": "PodTemplate",
}

#: kind -> its API group, which kubectl lets a resource name carry (``deployment.apps/api``, as
#: ``kubectl get -o name`` prints it; the core group has none).
KIND_GROUPS = {"Pod": "", "PodTemplate": "", "ReplicationController": "", "Deployment": "apps",
               "ReplicaSet": "apps", "StatefulSet": "apps", "DaemonSet": "apps", "Job": "batch", "CronJob": "batch"}

#: How many workloads (or, when there is none, objects read) an error lists before "and N more".
LISTED = 20


_VERSION_RE = re.compile(r"v[1-9][0-9]*((alpha|beta)[1-9][0-9]*)?")


def _kind(text: str) -> str | None:
    """A kind as kubectl takes it: any case, short names and plurals, optionally ``.GROUP`` or
    ``.VERSION.GROUP`` (``deployments.apps``, ``deployments.v1.apps``, ``pods.v1``)."""
    kind_text, _, rest = text.lower().partition(".")
    kind = KIND_ALIASES.get(kind_text)
    if kind is None or not rest:
        return kind
    version, _, group = rest.partition(".")
    if not _VERSION_RE.fullmatch(version):
        version, group = "", rest
    return kind if group == KIND_GROUPS[kind] and (version or group) else None


def parse_kind_name(text: str, option: str) -> tuple[str, str]:
    """``deploy/api`` -> ("Deployment", "api"), with kubectl's short kind names; ``option`` names the
    flag it came from in the error."""
    kind_text, sep, name = text.partition("/")
    kind = _kind(kind_text)
    if not sep or not name or "/" in name or kind is None:
        raise ParityError(f"{option} {text}: expected KIND/NAME, e.g. deploy/api-gateway or pod/x")
    return kind, name


def parse_workload_ref(text: str) -> tuple[str | None, str, str]:
    """``--workload``: ``KIND/NAME`` or ``NS/KIND/NAME`` -> (namespace or None, kind, name).

    Raises:
        ParityError: a malformed reference, a kind parity does not read, or a namespace or name the API
            server would refuse (both become engine object names).
    """
    parts = text.split("/")
    namespace = parts[0] if len(parts) == 3 else None
    kind = _kind(parts[-2]) if len(parts) in (2, 3) else None
    if kind is None or not all(parts):
        raise ParityError(f"--workload {text}: expected KIND/NAME or NS/KIND/NAME, e.g. deploy/api or "
                          "team-a/deploy/api (KIND: " + ", ".join(TEMPLATE_PATHS) + ")")
    bad = [f"namespace: {invalid(namespace, m)}" for m in dns1123_label_errors(namespace or "default")]
    bad += [f"name: {invalid(parts[-1], m)}" for m in object_name_errors(kind, parts[-1])]
    if bad:
        raise ParityError([Problem(f"--workload {shown(text)}: {m}") for m in bad])
    return namespace, kind, parts[-1]


class Selection(list):
    """The chosen workloads, in input order (a list), and what the choice left out: the Helm hooks
    (``hooks_left_out``) and the workloads a controller in the input makes (``made_left_out``)."""

    def __init__(self, workloads: list[Workload], hooks_left_out: list[Workload] | None = None,
                 made_left_out: list[Workload] | None = None):
        super().__init__(workloads)
        self.hooks_left_out: list[Workload] = hooks_left_out or []
        self.made_left_out: list[Workload] = made_left_out or []

    def left_out_lines(self) -> list[str]:
        """One line per reason, for stderr: never a silent drop."""
        return ([made_message(self.made_left_out)] if self.made_left_out else []) + (
            [hooks_message(self.hooks_left_out)] if self.hooks_left_out else [])

    def left_out_json(self) -> list[dict]:
        """``layout --format json``'s ``left_out``: each workload and why (``controller`` or ``helm_hook``)."""
        return ([{"kind": w.kind, "name": w.name, "namespace": w.namespace, "controller": w.controller}
                 for w in self.made_left_out]
                + [{"kind": w.kind, "name": w.name, "namespace": w.namespace, "helm_hook": w.hook}
                   for w in self.hooks_left_out])


def hooks_message(hooks: list[Workload]) -> str:
    """``left out: 2 Helm hook(s): Job/x (pre-install), Pod/y (test); --include-hooks adds them``."""
    return (f"left out: {len(hooks)} Helm hook(s): " + ", ".join(f"{w.ref} ({w.hook})" for w in hooks)
            + "; --include-hooks adds them")


def made_message(made: list[Workload]) -> str:
    """``left out: 1 workload(s) made by a controller in the input: ReplicaSet/x (by Deployment/y); ...``."""
    return (f"left out: {len(made)} workload(s) made by a controller in the input: "
            + ", ".join(f"{w.ref} (by {w.controller})" for w in made)
            + "; --workload takes one anyway")


def _listed(workloads: list[Workload]) -> str:
    shown_refs = [w.qualified_ref for w in workloads[:LISTED]]
    more = f" and {len(workloads) - LISTED} more" if len(workloads) > LISTED else ""
    return ", ".join(shown_refs) + more


def select_workloads(inputs: Inputs, refs: str | list[str] | tuple[str, ...] | None = None, *,
                     namespace: str | None = None, label_selector: str | None = None,
                     include_hooks: bool = False) -> Selection:
    """The workloads a command works on, in input order.

    Args:
        inputs: what was read.
        refs: ``--workload`` values (``KIND/NAME`` or ``NS/KIND/NAME``, kubectl's short kinds): exactly
            these, Helm hooks included (named, they are asked for). None or empty: every workload but
            the Helm hooks (``include_hooks`` keeps them) and those a controller in the input makes,
            narrowed by ``label_selector``.
        namespace: ``-n``: the namespace of a ``KIND/NAME`` that names none. Without it a ``KIND/NAME``
            may match in any namespace, and must match in one.
        label_selector: ``-l``: kubectl's label selector, matched against the pod template's labels.
        include_hooks: keep the workloads annotated ``helm.sh/hook``.
    Returns:
        The chosen workloads, with the Helm hooks left out in ``hooks_left_out`` and the workloads
        a controller in the input makes (a Deployment's ReplicaSet and Pods) in ``made_left_out``.
    Raises:
        ParityError: no workload at all; a reference that matches none or several (the candidates
            listed as NS/KIND/NAME); a bad selector; nothing left once the hooks are left out.
    """
    if not inputs.workloads:
        # (Secrets and ConfigMaps are named too: "saw no objects" of a file of ConfigMaps read as if
        # nothing had been read. A name is no value.)
        others = [(o.file, f"{kind}/{name}")
                  for kind, store in (("ConfigMap", inputs.configmaps), ("Secret", inputs.secrets))
                  for (_, name), o in store.items()]
        read = inputs.non_workloads() + others
        refs_read = sorted({ref for _, ref in read})
        # (The first few, sorted, then a count: one line however many objects a stream holds.)
        seen = ", ".join(refs_read[:LISTED]) or "no objects"
        if len(refs_read) > LISTED:
            seen += f" and {len(refs_read) - LISTED} more"
        where = read[0][0] if read else None
        raise ParityError(Problem(f"no workload found (saw {seen}); parity reads "
                                  + ", ".join(TEMPLATE_PATHS), file=where))
    refs = [refs] if isinstance(refs, str) else list(refs or ())
    if refs and label_selector is not None:
        raise ParityError("--workload and -l/--selector: give one or the other (kubectl takes no selector "
                          "with KIND/NAME either)")
    if refs:
        return Selection(_named(inputs.workloads, refs, namespace))
    pool = inputs.workloads
    if label_selector is not None:
        from .labelselector import SelectorError, parse

        try:
            selector = parse(label_selector)
        except SelectorError as exc:
            raise ParityError(f"-l/--selector {go_quote(label_selector)}: {exc}") from None
        pool = [w for w in pool if selector.matches(w.pod_labels)]
        if not pool:
            raise ParityError(f"-l/--selector {go_quote(label_selector)}: no workload's pod template labels match "
                              f"(workloads: {_listed(inputs.workloads)})")
    # kubectl get deploy,rs,pod -o yaml: the ReplicaSet and the Pods are the Deployment's own, made by
    # it (metadata.ownerReferences, controller: true); one pod of the workload is what the cluster runs.
    present = {(w.namespace, w.ref) for w in inputs.workloads}
    made = [w for w in pool if w.controller is not None and (w.namespace, w.controller) in present]
    pool = [w for w in pool if w.controller is None or (w.namespace, w.controller) not in present]
    hooks = [] if include_hooks else [w for w in pool if w.hook is not None]
    chosen = [w for w in pool if w.hook is None] if hooks else pool
    selection = Selection(chosen, hooks, made)
    if not chosen:
        raise ParityError("no workload left: " + "; ".join(selection.left_out_lines()))
    return selection


def _named(workloads: list[Workload], refs: list[str], namespace: str | None) -> list[Workload]:
    """The workloads ``--workload`` names (each exactly one), in input order."""
    problems: list[Problem] = []
    chosen: set[int] = set()
    for text in refs:
        ns, kind, name = parse_workload_ref(text)
        ns = ns or namespace
        matches = [w for w in workloads if w.kind == kind and w.name == name and (ns is None or w.namespace == ns)]
        if len(matches) == 1:
            chosen.add(id(matches[0]))
        elif matches:
            problems.append(Problem(f"--workload {text}: ambiguous, {len(matches)} match: {_listed(matches)}; name "
                                    "one as NS/KIND/NAME (or with -n NS)"))
        else:
            near = [w for w in workloads if w.name == name] or workloads
            where = f" in namespace {ns}" if ns else ""
            problems.append(Problem(f"--workload {text}: not found{where}; there are: {_listed(near)}"))
    if problems:
        raise ParityError(problems)
    return [w for w in workloads if id(w) in chosen]
