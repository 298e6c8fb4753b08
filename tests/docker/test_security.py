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
    # containerd's getUserFromImage reads a uid with Go's strconv.ParseInt(user, 10, 64): a sign is
    # taken, only ASCII digits, within int64; the kubelet then checks IsValidUserID (0-2147483647).
    ("+0", 'container has runAsNonRoot and image will run as root (pod: "web_team(1234)", container: app)'),
    ("2147483647", None),
    ("-1", "container has runAsNonRoot and image has an invalid user id (-1). (Must be 1-(2147483647)): must be "
           'between 0 and 2147483647, inclusive (pod: "web_team(1234)", container: app)'),
    ("4294967295:0", "container has runAsNonRoot and image has an invalid user id (4294967295). (Must be "
                     "1-(2147483647)): must be between 0 and 2147483647, inclusive (pod: \"web_team(1234)\", "
                     "container: app)"),
    ("\u0661\u0662", "container has runAsNonRoot and image has non-numeric user (\u0661\u0662), cannot verify user "
                     'is non-root (pod: "web_team(1234)", container: app)'),
    ("9223372036854775808", "container has runAsNonRoot and image has non-numeric user (9223372036854775808), "
                            'cannot verify user is non-root (pod: "web_team(1234)", container: app)'),
    ("1_000", "container has runAsNonRoot and image has non-numeric user (1_000), cannot verify user is "
              'non-root (pod: "web_team(1234)", container: app)'),
])
def test_image_user_is_checked_as_the_kubelet_checks_it(user, error):
    assert verify_run_as_non_root(user, "app", POD) == error
