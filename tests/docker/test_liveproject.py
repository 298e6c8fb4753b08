"""``docker/liveproject.py``'s reading of ``docker compose up``'s output: whether the throw-away
project's ``up`` can have made anything (then its teardown removes it through Compose and names
what it could not remove), from the plain progress Compose prints (``COMPOSE_PROGRESS=plain``)."""

from __future__ import annotations

import pytest

from parity.docker.liveproject import _made_nothing

# What Compose 2.40 printed here, captured from real runs (an engine whose socket refuses the
# connection; a build, then the network and container made).
REFUSED = ("unable to get image 'parity-diff-1a2b-data:1': Cannot connect to the Docker daemon at "
           "unix:///tmp/nosock. Is the docker daemon running?\n")
WARNING = ('time="2026-12-02T07:56:57Z" level=warning msg="Docker Compose is configured to build using Bake, '
           "but buildx isn't installed\"\n")
BUILT = WARNING + ('#0 building with "default" instance using docker driver\n\n'
                   "#1 [a internal] load build definition from Dockerfile\n#1 DONE 0.0s\n")
MADE = BUILT + (" a  Built\n Network cptest_default  Creating\n Network cptest_default  Created\n"
                " Container cptest-a-1  Creating\n")


@pytest.mark.parametrize("output, nothing", [
    ("", True), (WARNING, True),
    # the engine refused the connection before any step: nothing to remove, nothing to report (it was
    # taken for a step: diff --live then printed three lines of leftovers that did not exist)
    (WARNING + REFUSED, True), (REFUSED, True),
    (BUILT, False), (MADE, False), (' Volume "p_v"  Creating\n', False),
    (None, False),  # output not known: it may have made something
])
def test_an_up_that_printed_no_step_made_nothing(output, nothing):
    assert _made_nothing(output) is nothing
