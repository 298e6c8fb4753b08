"""parity/kube/podspec.py: the typed pod spec (issue 16 ``Container.raw``, issue 13's typed fields).

Every field parity acts on is read once, here, into typed values with the API server's defaults;
what the API server refuses is refused with its message (pkg/apis/core/validation/validation.go:
``ValidatePodSpec``, ``validateContainerCommon``, ``ValidateSecurityContext``, ``validateProbe``...).
"""

from __future__ import annotations

import sys

import pytest
import yaml

from parity.errors import ParityError
from parity.kube.manifests import load_objects
from parity.kube.names import go_quote
from parity.kube.podspec import (ContainerPort, EnvFromSource, EnvVar, ExecAction, FieldSelector, GRPCAction,
                                 HostAlias, HTTPGetAction, KeySelector, Lifecycle, Probe, Resources,
                                 ResourceSelector, SeccompProfile, SecurityContext, SleepAction, Sysctl,
                                 TCPSocketAction)

from ..conftest import deployment

FULL = deployment("web", """\
      hostname: h1
      subdomain: sub
      hostAliases: [{ip: 10.1.2.3, hostnames: [db.local, cache]}]
      automountServiceAccountToken: false
      serviceAccountName: robot
      enableServiceLinks: false
      shareProcessNamespace: true
      dnsPolicy: ClusterFirstWithHostNet
      hostNetwork: true
      hostIPC: false
      terminationGracePeriodSeconds: 45
      securityContext:
        runAsUser: 1000
        runAsNonRoot: true
        seccompProfile: {type: RuntimeDefault}
        sysctls: [{name: kernel.msgmax, value: "65536"}]
      initContainers:
      - name: proxy
        image: proxy:1
        restartPolicy: Always
        startupProbe: {tcpSocket: {port: 15001}, failureThreshold: 30}
      containers:
      - name: app
        image: app:1
        command: [/bin/app, "--x=$(A)"]
        args: []
        workingDir: /srv
        stdin: true
        tty: true
        terminationMessagePath: /tmp/end
        terminationMessagePolicy: FallbackToLogsOnError
        ports:
        - {containerPort: 8080, name: http}
        - {containerPort: 53, hostPort: 53, protocol: UDP}
        resources: {requests: {cpu: 250m}, limits: {cpu: 2, memory: 128Mi}}
        envFrom: [{prefix: P_, configMapRef: {name: cfg}}, {secretRef: {name: creds, optional: true}}]
        env:
        - {name: A, value: a}
        - {name: B}
        - {name: S, valueFrom: {secretKeyRef: {name: creds, key: token, optional: true}}}
        - {name: C, valueFrom: {configMapKeyRef: {name: cfg, key: level}}}
        - {name: L, valueFrom: {fieldRef: {fieldPath: "metadata.labels['app']"}}}
        - {name: M, valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi, containerName: proxy}}}
        securityContext:
          runAsGroup: 2000
          privileged: false
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities: {add: [NET_ADMIN], drop: [ALL]}
          procMount: Default
          seccompProfile: {type: Localhost, localhostProfile: profiles/app.json}
        livenessProbe: {exec: {command: [cat, /tmp/ok]}, periodSeconds: 5}
        readinessProbe:
          httpGet: {port: http, path: /ready, httpHeaders: [{name: X-Probe, value: "1"}]}
          timeoutSeconds: 3
        startupProbe: {grpc: {port: 9000, service: health}, initialDelaySeconds: 2, terminationGracePeriodSeconds: 5}
        lifecycle:
          postStart: {httpGet: {port: 8080, scheme: HTTPS, host: localhost}}
          preStop: {sleep: {seconds: 5}}
""")


def _spec(text: str):
    (w,) = load_objects([yaml.safe_load(text)], "test").workloads
    return w.spec


def _problems(text: str) -> list[str]:
    with pytest.raises(ParityError) as refused:
        load_objects(list(yaml.safe_load_all(text)), "test")
    return [str(p) for p in refused.value.problems]


def test_every_container_field_parity_uses_is_typed():
    spec = _spec(FULL)
    (proxy,), (app,) = spec.init_containers, spec.containers
    assert app.command == ("/bin/app", "--x=$(A)") and app.args == () and proxy.command is None
    assert (app.working_dir, app.stdin, app.tty) == ("/srv", True, True)
    assert (app.termination_message_path, app.termination_message_policy) == ("/tmp/end", "FallbackToLogsOnError")
    assert (proxy.termination_message_path, proxy.termination_message_policy) == ("/dev/termination-log", "File")
    w = "spec.template.spec.containers[0]"
    assert app.ports == (ContainerPort(8080, None, "TCP", "http", None, f"{w}.ports[0]"),
                         ContainerPort(53, 53, "UDP", None, None, f"{w}.ports[1]"))
    assert app.resources == Resources(requests={"cpu": "250m"}, limits={"cpu": "2", "memory": "128Mi"})
    assert app.env_from == (EnvFromSource("P_", "configMap", "cfg", False, f"{w}.envFrom[0]"),
                            EnvFromSource("", "secret", "creds", True, f"{w}.envFrom[1]"))
    assert app.env == (
        EnvVar("A", "a", None, f"{w}.env[0]"), EnvVar("B", "", None, f"{w}.env[1]"),
        EnvVar("S", "", KeySelector("secret", "creds", "token", True), f"{w}.env[2]"),
        EnvVar("C", "", KeySelector("configMap", "cfg", "level", False), f"{w}.env[3]"),
        EnvVar("L", "", FieldSelector("metadata.labels['app']"), f"{w}.env[4]"),
        EnvVar("M", "", ResourceSelector("limits.memory", "proxy", "1Mi"), f"{w}.env[5]"))
    assert app.security == SecurityContext(
        run_as_group=2000, read_only_root_filesystem=True, privileged=False, allow_privilege_escalation=False,
        capabilities_add=("NET_ADMIN",), capabilities_drop=("ALL",), proc_mount="Default",
        seccomp_profile=SeccompProfile("Localhost", "profiles/app.json"))
    # The kubelet's effective context: the pod's runAsUser/runAsNonRoot where the container sets none,
    # the container's own seccomp profile over the pod's.
    effective = app.security.over(spec.security)
    assert (effective.run_as_user, effective.run_as_group, effective.run_as_non_root) == (1000, 2000, True)
    assert effective.seccomp_profile == SeccompProfile("Localhost", "profiles/app.json")
    assert proxy.security.over(spec.security).seccomp_profile == SeccompProfile("RuntimeDefault")


def test_probes_and_lifecycle_are_typed_with_the_api_servers_defaults():
    spec = _spec(FULL)
    (proxy,), (app,) = spec.init_containers, spec.containers
    w = "spec.template.spec.containers[0]"
    assert app.liveness_probe == Probe(ExecAction(("cat", "/tmp/ok")), period_seconds=5, field=f"{w}.livenessProbe")
    assert app.readiness_probe == Probe(HTTPGetAction("http", "/ready", "HTTP", None, (("X-Probe", "1"),)),
                                        timeout_seconds=3, field=f"{w}.readinessProbe")
    assert app.startup_probe == Probe(GRPCAction(9000, "health"), initial_delay_seconds=2,
                                      termination_grace_period_seconds=5, field=f"{w}.startupProbe")
    assert app.lifecycle == Lifecycle(HTTPGetAction(8080, "/", "HTTPS", "localhost"), SleepAction(5),
                                      f"{w}.lifecycle")
    assert proxy.sidecar and proxy.restart_policy == "Always"
    assert proxy.startup_probe == Probe(TCPSocketAction(15001), failure_threshold=30,
                                        field="spec.template.spec.initContainers[0].startupProbe")
    assert (proxy.liveness_probe, proxy.lifecycle) == (None, None)


def test_pod_level_fields_are_typed():
    spec = _spec(FULL)
    assert (spec.hostname, spec.subdomain) == ("h1", "sub")
    assert spec.host_aliases == (HostAlias("10.1.2.3", ("db.local", "cache")),)
    assert spec.automount_service_account_token is False and spec.enable_service_links is False
    assert spec.service_account_name == "robot"
    assert (spec.share_process_namespace, spec.host_network, spec.host_pid, spec.host_ipc) == (True, True, False,
                                                                                               False)
    assert (spec.dns_policy, spec.termination_grace_period_seconds) == ("ClusterFirstWithHostNet", 45)
    assert spec.sysctls == (Sysctl("kernel.msgmax", "65536"),)
    assert spec.security == SecurityContext(run_as_user=1000, run_as_non_root=True,
                                            seccomp_profile=SeccompProfile("RuntimeDefault"))


def test_unset_fields_take_the_api_servers_defaults():
    spec = _spec("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: b}]\n")
    (ctr,) = spec.containers
    assert (ctr.command, ctr.args, ctr.working_dir, ctr.env, ctr.env_from, ctr.ports) == (None, None, None, (), (), ())
    assert (ctr.stdin, ctr.tty, ctr.restart_policy, ctr.sidecar) == (False, False, None, False)
    assert ctr.resources == Resources() and ctr.security == SecurityContext()
    assert (ctr.liveness_probe, ctr.readiness_probe, ctr.startup_probe, ctr.lifecycle) == (None,) * 4
    assert (spec.hostname, spec.subdomain, spec.host_aliases, spec.sysctls) == (None, None, (), ())
    assert (spec.automount_service_account_token, spec.enable_service_links) == (None, True)
    assert (spec.dns_policy, spec.termination_grace_period_seconds) == ("ClusterFirst", 30)
    assert not (spec.share_process_namespace or spec.host_network or spec.host_pid or spec.host_ipc)


POD = "apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n{spec}"


def _pod(spec: str) -> str:
    return POD.format(spec="".join("  " + line + "\n" for line in spec.splitlines()))


#: (pod spec, the API server's lines): each a bad input parity now acts on, refused as the API server
#: refuses it (in the test's "FILE: OBJECT: FIELD: message" shape).
REFUSED = [
    pytest.param("containers: [{name: a, image: b, securityContext: {allowPrivilegeEscalation: false, "
                 "privileged: true}}]",
                 ["spec.containers[0].securityContext: Invalid value: cannot set `allowPrivilegeEscalation` to false "
                  "and `privileged` to true"], id="escalation-privileged"),
    pytest.param("containers: [{name: a, image: b, securityContext: {allowPrivilegeEscalation: false, "
                 "capabilities: {add: [CAP_SYS_ADMIN]}}}]",
                 ["spec.containers[0].securityContext: Invalid value: cannot set `allowPrivilegeEscalation` to false "
                  "and `capabilities.Add` CAP_SYS_ADMIN"], id="escalation-sys-admin"),
    pytest.param("containers: [{name: a, image: b, securityContext: {procMount: Unmasked}}]",
                 ['spec.containers[0].securityContext.procMount: Invalid value: "Unmasked": `hostUsers` must be '
                  "false to use `Unmasked`"], id="procmount-unmasked"),
    pytest.param("containers: [{name: a, image: b, securityContext: {procMount: Masked}}]",
                 ['spec.containers[0].securityContext.procMount: Unsupported value: "Masked": supported values: '
                  '"Default", "Unmasked"'], id="procmount-unsupported"),
    pytest.param("containers: [{name: a, image: b, securityContext: {seccompProfile: {type: Localhost}}}]",
                 ["spec.containers[0].securityContext.seccompProfile.localhostProfile: Required value: must be set "
                  "when seccomp type is Localhost"], id="seccomp-localhost-no-profile"),
    pytest.param("securityContext: {seccompProfile: {type: Strict}}\ncontainers: [{name: a, image: b}]",
                 ['spec.securityContext.seccompProfile.type: Unsupported value: "Strict": supported values: '
                  '"Localhost", "RuntimeDefault", "Unconfined"'], id="seccomp-type"),
    pytest.param("containers: [{name: a, image: b, livenessProbe: {periodSeconds: 3}}]",
                 ["spec.containers[0].livenessProbe: Required value: must specify a handler type"],
                 id="probe-no-handler"),
    pytest.param("containers: [{name: a, image: b, readinessProbe: {exec: {command: [x]}, tcpSocket: {port: 1}}}]",
                 ["spec.containers[0].readinessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type"],
                 id="probe-two-handlers"),
    pytest.param("containers: [{name: a, image: b, livenessProbe: {exec: {command: [x]}, successThreshold: 2}}]",
                 ["spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1"],
                 id="liveness-success-threshold"),
    pytest.param("containers: [{name: a, image: b, startupProbe: {httpGet: {port: 0}, failureThreshold: -1}}]",
                 ["spec.containers[0].startupProbe.httpGet.port: Invalid value: 0: must be between 1 and 65535, "
                  "inclusive",
                  "spec.containers[0].startupProbe.failureThreshold: Invalid value: -1: must be greater than or "
                  "equal to 0"], id="probe-port-and-threshold"),
    pytest.param("containers: [{name: a, image: b, readinessProbe: {exec: {command: []}, "
                 "terminationGracePeriodSeconds: 3}}]",
                 ["spec.containers[0].readinessProbe.exec.command: Required value",
                  "spec.containers[0].readinessProbe.terminationGracePeriodSeconds: Invalid value: 3: must not be set "
                  "for readinessProbes"], id="readiness-exec-empty-grace"),
    pytest.param("containers: [{name: a, image: b, lifecycle: {preStop: {sleep: {seconds: 60}}}}]",
                 ["spec.containers[0].lifecycle.preStop.sleep: Invalid value: 60: must be non-negative and less than "
                  "terminationGracePeriodSeconds (30)"], id="prestop-sleep-beyond-grace"),
    pytest.param("initContainers: [{name: i, image: b, livenessProbe: {exec: {command: [x]}}}]\n"
                 "containers: [{name: a, image: b}]",
                 ["spec.initContainers[0].livenessProbe: Forbidden: may not be set for init containers without "
                  "restartPolicy=Always"], id="init-probe"),
    pytest.param("initContainers: [{name: i, image: b, restartPolicy: OnFailure}]\ncontainers: [{name: a, image: b}]",
                 ['spec.initContainers[0].restartPolicy: Unsupported value: "OnFailure": supported values: "Always"'],
                 id="init-restart-policy"),
    pytest.param("containers: [{name: a, image: b, restartPolicy: Always}]",
                 ["spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers"],
                 id="container-restart-policy"),
    pytest.param("containers: [{name: a, image: b, terminationMessagePolicy: Logs}]",
                 ['spec.containers[0].terminationMessagePolicy: Unsupported value: "Logs": supported values: "File", '
                  '"FallbackToLogsOnError"'], id="termination-message-policy"),
    pytest.param("containers: [{name: a, image: b, ports: [{containerPort: 80, name: web}, "
                 "{containerPort: 81, name: web}]}]",
                 ['spec.containers[0].ports[1].name: Duplicate value: "web"'], id="port-name-duplicate"),
    pytest.param("containers: [{name: a, image: b, ports: [{containerPort: 80, hostPort: 8080}]}, "
                 "{name: c, image: b, ports: [{containerPort: 81, hostPort: 8080}]}]",
                 ['spec.containers[1].ports[0].hostPort: Duplicate value: "TCP//8080"'], id="host-port-conflict"),
    pytest.param("hostNetwork: true\ncontainers: [{name: a, image: b, ports: [{containerPort: 80, hostPort: 8080}]}]",
                 ["spec.containers[0].ports[0].hostPort: Invalid value: 8080: must match `containerPort` when "
                  "`hostNetwork` is true"], id="host-network-port"),
    pytest.param("containers: [{name: a, image: b, env: [{name: X, value: x, valueFrom: {fieldRef: "
                 "{fieldPath: metadata.name}}}]}]",
                 ['spec.containers[0].env[0].valueFrom: Invalid value: "": may not be specified when `value` is not '
                  "empty"], id="env-value-and-value-from"),
    pytest.param("containers: [{name: a, image: b, env: [{name: X, valueFrom: {}}]}]",
                 ['spec.containers[0].env[0].valueFrom: Invalid value: "": must specify one of: `fieldRef`, '
                  "`resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"], id="env-value-from-empty"),
    pytest.param("containers: [{name: a, image: b, env: [{name: X, valueFrom: {fieldRef: {fieldPath: metadata.name}, "
                 "secretKeyRef: {name: s, key: k}}}]}]",
                 ['spec.containers[0].env[0].valueFrom: Invalid value: "": may not have more than one field specified '
                  "at a time"], id="env-two-sources"),
    pytest.param("containers: [{name: a, image: b, env: [{name: X, valueFrom: {fieldRef: {fieldPath: metadata.labels}}}]}]",
                 ['spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Unsupported value: "metadata.labels": '
                  'supported values: "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", '
                  '"spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"'],
                 id="env-field-path-unsupported"),
    pytest.param("containers: [{name: a, image: b, env: [{name: X, valueFrom: {fieldRef: {fieldPath: spec.foo}}}]}]",
                 ['spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Invalid value: "spec.foo": error '
                  "converting fieldPath: field label not supported: spec.foo"], id="env-field-path-unknown"),
    pytest.param("containers: [{name: a, image: b, env: [{name: X, valueFrom: {fieldRef: "
                 "{fieldPath: \"metadata.name['x']\"}}}]}]",
                 ['spec.containers[0].env[0].valueFrom.fieldRef: Invalid value: "metadata.name": does not support '
                  "subscript"], id="env-field-path-subscript"),
    pytest.param("containers: [{name: a, image: b, envFrom: [{configMapRef: {name: c}, secretRef: {name: s}}]}]",
                 ['spec.containers[0].envFrom: Invalid value: "": may not have more than one field specified at a '
                  "time"], id="env-from-two-sources"),
    pytest.param("hostname: Web_1\nsubdomain: a.b\ncontainers: [{name: a, image: b}]",
                 ['spec.hostname: Invalid value: "Web_1": a lowercase RFC 1123 label must consist of lower case '
                  "alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. "
                  "'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
                  'spec.subdomain: Invalid value: "a.b": must not contain dots'], id="hostname-subdomain"),
    pytest.param("hostAliases: [{ip: 10.0.0.300, hostnames: [ok, Not_OK]}]\ncontainers: [{name: a, image: b}]",
                 ['spec.hostAliases[0].ip: Invalid value: "10.0.0.300": must be a valid IP address, (e.g. 10.9.8.7 '
                  "or 2001:db8::ffff)",
                  'spec.hostAliases[0].hostnames[1]: Invalid value: "Not_OK": a lowercase RFC 1123 subdomain must '
                  "consist of lower case alphanumeric characters, '-' or '.', and must start and end with an "
                  "alphanumeric character (e.g. 'example.com', regex used for validation is "
                  "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"], id="host-aliases"),
    pytest.param("dnsPolicy: ClusterLast\ncontainers: [{name: a, image: b}]",
                 ['spec.dnsPolicy: Unsupported value: "ClusterLast": supported values: "ClusterFirstWithHostNet", '
                  '"ClusterFirst", "Default", "None"'], id="dns-policy"),
    pytest.param("shareProcessNamespace: true\nhostPID: true\ncontainers: [{name: a, image: b}]",
                 ["spec.securityContext.shareProcessNamespace: Invalid value: true: ShareProcessNamespace and HostPID "
                  "cannot both be enabled"], id="share-pid-and-host-pid"),
    pytest.param("hostNetwork: true\nsecurityContext: {sysctls: [{name: net.core.somaxconn, value: '1'}, "
                 "{name: Kernel.X, value: '1'}]}\ncontainers: [{name: a, image: b}]",
                 ['spec.securityContext.sysctls[0].name: Invalid value: "net.core.somaxconn": may not be specified '
                  "when 'hostNetwork' is true",
                  'spec.securityContext.sysctls[1].name: Invalid value: "Kernel.X": must have at most 253 characters '
                  "and match regex ^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$"],
                 id="sysctls"),
    pytest.param("serviceAccountName: Robot\ncontainers: [{name: a, image: b}]",
                 ['spec.serviceAccountName: Invalid value: "Robot": a lowercase RFC 1123 subdomain must consist of '
                  "lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric "
                  "character (e.g. 'example.com', regex used for validation is "
                  "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"], id="service-account-name"),
]


@pytest.mark.parametrize("spec,lines", REFUSED)
def test_what_the_api_server_refuses_is_refused_with_its_message(spec, lines):
    assert _problems(_pod(spec)) == [f"test: Pod/p: {line}" for line in lines]


def test_a_wrongly_typed_new_field_is_named():
    assert _problems(_pod("containers: [{name: a, image: b, securityContext: {privileged: 'yes', "
                          "capabilities: {add: NET_ADMIN}}}]")) == [
        "test: Pod/p: spec.containers[0].securityContext.privileged: must be true or false",
        "test: Pod/p: spec.containers[0].securityContext.capabilities.add: must be a list"]


def _image_spec(image: str) -> dict:
    """A pod whose one container runs ``image`` (built as data: no YAML escape to get wrong)."""
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "a", "image": image}]}}


def test_an_image_holding_any_space_or_unprintable_character_inside_is_refused():
    """Every space of Unicode (``str.isspace``) and unprintable characters of each kind inside an
    image refuse it as the kubelet's reference parser would (issue 17: the check looks at the string
    once, on the rule that every space but " " is unprintable)."""
    spaces = [chr(i) for i in range(sys.maxunicode + 1) if chr(i).isspace()]
    odd = spaces + ["\x00", "\x7f", "\u200b", "\u0378", "\ud800", "\U000e0001"]  # Cc, Cf, Cn, Cs, tag
    refused_all = []
    for ch in odd:
        image = f"busy{ch}box:1"
        with pytest.raises(ParityError) as refused:
            load_objects([_image_spec(image)], "test")
        refused_all += [str(p) for p in refused.value.problems]
    assert refused_all == [
        f"test: Pod/p: spec.containers[0].image: Invalid value: {go_quote(f'busy{ch}box:1')}: not a valid image "
        "reference (the kubelet fails the container with InvalidImageName: invalid reference format)"
        for ch in odd]
    # Printable, no space, but not ASCII: distribution/reference's grammar refuses it too (corpus).
    with pytest.raises(ParityError):
        load_objects([_image_spec("regístry.example/äpp:1")], "test")


@pytest.mark.parametrize("image", [
    "busybox", "busybox:1.36", "registry.k8s.io/external-dns/external-dns:v0.15.0", "localhost:5000/a/b__c:x",
    "[::1]:5000/a/b.c-d:e", "Registry.Example/app", "busybox:1.38.0@sha256:" + "0" * 64, "app@sha512:" + "f" * 128,
    "app@sha384:" + "0" * 96, "a" * 247 + ":t", "registry.example.com/" + "a" * 250, "index.docker.io/busybox:T_1"])
def test_an_image_the_kubelet_can_parse_is_taken(image):
    """The path's length counts after normalisation and without the domain (reference.go ``Parse``:
    ``len(repo.path)``): ``aaa...`` (247) is ``docker.io/library/aaa...``, path 255."""
    (w,) = load_objects([_image_spec(image)], "test").workloads
    assert w.spec.containers[0].image == image


@pytest.mark.parametrize("image, hint", [
    ("ko://knative.dev/serving/cmd/activator", "; ko:// names a Go import path that ko builds: render the manifests "
                                               "with ko resolve -f DIR first"),
    ("Busybox", ""), ("busybox:", ""), ("busybox:-x", ""), ("--privileged", ""), ("a/-b", ""), ("a//b", ""),
    ("busybox@sha256:abc", ""), ("f" * 64, ""), ("https://registry/app", "")])
def test_an_image_the_kubelet_cannot_parse_is_refused_naming_the_field(image, hint):
    """distribution/reference's grammar, which the kubelet's ParseNormalizedNamed applies before it
    pulls (the container waits with InvalidImageName): the API server takes the string, so parity took
    knative's and tekton's ``ko://`` images and wrote them into a compose file Compose refuses whole."""
    with pytest.raises(ParityError) as refused:
        load_objects([_image_spec(image)], "test")
    assert [str(p) for p in refused.value.problems] == [
        f"test: Pod/p: spec.containers[0].image: Invalid value: {go_quote(image)}: not a valid image reference "
        f"(the kubelet fails the container with InvalidImageName: invalid reference format){hint}"]



@pytest.mark.parametrize("image, error", [
    ("busybox:t\u00e0g", "invalid reference format"), ("busybox:\u0661\u0662", "invalid reference format"),
    ("busybox@sha256:" + "0" * 32, "invalid checksum digest format"),
    ("busybox@sha256:" + "A" * 64, "invalid checksum digest format"),
    ("busybox@sha512:" + "0" * 64, "invalid checksum digest format"),
    ("busybox@md5:" + "0" * 32, "unsupported digest algorithm"),
    ("busybox@SHA256:" + "0" * 64, "invalid reference format"),
    ("busybox:1@SHA256:" + "0" * 64, "invalid checksum digest format"),
    ("a" * 248 + ":t", "repository name must not be more than 255 characters"),
    ("a" * 255 + ":t", "repository name must not be more than 255 characters"),
    ("a" * 256, "repository name must not be more than 255 characters"),
    ("Foo_Bar/x", "repository name must be lowercase")])
def test_an_image_distribution_reference_refuses_is_refused_with_its_words(image, error):
    """distribution/reference as the kubelet applies it (ParseNormalizedNamed): Go's ``\\w`` in a tag is
    ASCII (Python's is Unicode: ``busybox:tàg`` was taken and broke compose.yaml), a digest is a
    registered algorithm with its exact lower-case hex (go-digest), the name's path (normalised:
    ``docker.io/library/NAME``) has at most 255 characters. Each was taken before (review 6, F-A)."""
    with pytest.raises(ParityError) as refused:
        load_objects([_image_spec(image)], "test")
    assert [str(p) for p in refused.value.problems] == [
        f"test: Pod/p: spec.containers[0].image: Invalid value: {go_quote(image)}: not a valid image reference "
        f"(the kubelet fails the container with InvalidImageName: {error})"]

def test_pod_spec_values_are_compared_and_hashed_by_their_fields():
    """podspec's values are equal, and hash equal, when their fields are (as frozen dataclasses were:
    issue 17 made them unsafe_hash instead, for start-up): a set or dict of them keeps one of each."""
    a, b = (KeySelector("secret", "s", "k", False) for _ in range(2))
    assert a == b and a is not b and hash(a) == hash(b) and len({a, b}) == 1
    assert KeySelector("secret", "s", "k", True) != a
    env = [EnvVar("X", "", a, "f"), EnvVar("X", "", b, "f")]
    assert len(set(env)) == 1 and env[0] == env[1]


def test_every_pod_spec_value_compares_hashes_and_shows_as_its_dataclass_did():
    """``values.valueclass`` generates only ``__init__`` and shares ``Value``'s ``__eq__``/``__hash__``/
    ``__repr__`` (start-up): for every value class, against what ``@dataclass(unsafe_hash=True)``
    generates for the same fields (one field, several, a dict field), equality within and across
    classes, the hash, and the repr are the dataclass's."""
    import dataclasses

    from parity.kube import kubelet, podspec

    classes = [c for c in vars(podspec).values() if isinstance(c, type) and issubclass(c, podspec.Value)
               and c is not podspec.Value] + [kubelet.RootCAConfigMap]
    assert len(classes) >= 32
    for cls in classes:
        names = [f.name for f in dataclasses.fields(cls)]
        twin = dataclasses.make_dataclass(cls.__name__, [(n, object) for n in names], unsafe_hash=True)
        twin.__qualname__ = cls.__qualname__
        values = [(f"v-{n}", 7) for n in names]
        one, same = cls(*[v[0] for v in values]), cls(*[v[0] for v in values])
        other = cls(*[v[1] for v in values]) if names else cls()
        ref, ref_other = twin(*[v[0] for v in values]), twin(*[v[1] for v in values])
        assert (one == same, one != same, hash(one) == hash(same)) == (True, False, True), cls
        assert (one == other) == (ref == ref_other) and repr(one) == repr(ref), cls
        assert hash(one) == hash(ref), cls  # (the same tuple of fields)
        assert one.__eq__(ref) is NotImplemented and one != ref  # another class: never equal
    assert podspec.ConfigMapSource("c", (), False, None, "f") != kubelet.RootCAConfigMap("c", (), False, None, "f")
