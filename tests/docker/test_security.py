"""The kubelet's runAsNonRoot check on an image's USER (security.verify_run_as_non_root), with the
kubelet's texts (pkg/kubelet/kuberuntime/security_context_others.go verifyRunAsNonRoot)."""

from __future__ import annotations

import pytest

from parity.docker.security import pod_ref, verify_run_as_non_root

POD = pod_ref("web", "team", "1234")


@pytest.mark.parametrize("user, error", [
    ("", 'container has runAsNonRoot and image will run as root (pod: "web_team(1234)", container: app)'),
    ("0", 'container has runAsNonRoot and image will run as root (pod: "web_team(1234)", container: app)'),
    ("0:1000", 'container has runAsNonRoot and image will run as root (pod: "web_team(1234)", container: app)'),
    ("nobody", "container has runAsNonRoot and image has non-numeric user (nobody), cannot verify user is "
               'non-root (pod: "web_team(1234)", container: app)'),
    ("1000", None),
    ("1000:0", None),
])
def test_image_user_is_checked_as_the_kubelet_checks_it(user, error):
    assert verify_run_as_non_root(user, "app", POD) == error
