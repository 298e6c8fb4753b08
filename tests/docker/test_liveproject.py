"""``docker/liveproject.py``'s reading of ``docker compose up``'s output: whether the throw-away
project's ``up`` can have made anything (then its teardown removes it through Compose and names
what it could not remove), from the plain progress Compose prints (``COMPOSE_PROGRESS=plain``)."""

from __future__ import annotations

import pytest

from parity.docker.liveproject import LIVE_PROBE, ProbeLitter, _made_nothing, host_location, probe_locations

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


# The write probes run while every container's paths are read (LiveProject.read): an archive may catch
# a probe's file in the probing container or in any other one mounting the same place.
VOLUME = "/var/lib/docker/volumes/p_cfg/_data"


def _mount(source: str, destination: str) -> dict:
    return {"Type": "volume" if source.startswith("/var/lib/docker/volumes/") else "bind",
            "Source": source, "Destination": destination}


def test_a_probe_file_is_litter_in_another_container_mounting_the_same_volume():
    writer = [_mount(VOLUME, "/etc/cfg")]
    reader = [_mount(VOLUME, "/config")]  # the same volume, read-only there: its own probe answered r
    written = probe_locations([(writer, "a", ["/etc/cfg"], ["w"]), (reader, "b", ["/config"], ["r"])])
    assert written == {f"{VOLUME}/{LIVE_PROBE}"}
    assert f"/config/{LIVE_PROBE}" in ProbeLitter(reader, "b", written)
    assert f"/etc/cfg/{LIVE_PROBE}" in ProbeLitter(writer, "a", written)


def test_a_file_of_the_probes_name_where_no_probe_could_write_is_the_setups():
    ro = [_mount(VOLUME, "/etc/cfg")]
    written = probe_locations([(ro, "a", ["/etc/cfg"], ["r"]), (ro, "b", ["/etc/cfg"], [])])
    assert written == set()
    assert f"/etc/cfg/{LIVE_PROBE}" not in ProbeLitter(ro, "a", written)


def test_only_the_top_of_the_written_mount_is_litter_not_a_deeper_directory_or_another_name():
    writer = [_mount(VOLUME, "/data")]
    deeper = [_mount(f"{VOLUME}/sub", "/sub")]  # a subPath of the same volume
    written = probe_locations([(writer, "a", ["/data"], ["w"])])
    assert f"/sub/{LIVE_PROBE}" not in ProbeLitter(deeper, "b", written)
    assert f"/data/sub/{LIVE_PROBE}" not in ProbeLitter(writer, "a", written)
    assert "/data/other" not in ProbeLitter(writer, "a", written)
    # The other way round: the probe wrote at the top of the subPath, which the whole volume shows deeper.
    written = probe_locations([(deeper, "b", ["/sub"], ["w"])])
    assert f"/data/sub/{LIVE_PROBE}" in ProbeLitter(writer, "a", written)


def test_a_tmpfs_or_the_containers_own_filesystem_is_shared_with_no_other_container():
    tmpfs = [{"Type": "tmpfs", "Source": "", "Destination": "/scratch"}]
    written = probe_locations([(tmpfs, "a", ["/scratch"], ["w"]), ([], "a", ["/var/run"], ["w"])])
    assert f"/scratch/{LIVE_PROBE}" in ProbeLitter(tmpfs, "a", written)
    assert f"/scratch/{LIVE_PROBE}" not in ProbeLitter(tmpfs, "b", written)
    assert f"/var/run/{LIVE_PROBE}" in ProbeLitter([], "a", written)
    assert f"/var/run/{LIVE_PROBE}" not in ProbeLitter([], "b", written)


def test_the_deepest_mount_holding_a_path_decides_where_it_is():
    mounts = [_mount(VOLUME, "/etc"), _mount("/srv/tokens", "/etc/tokens/")]
    assert host_location(mounts, "a", "/etc/tokens/x") == "/srv/tokens/x"
    assert host_location(mounts, "a", "/etc/tokensx") == f"{VOLUME}/tokensx"
    assert host_location(mounts, "a", "/etc") == VOLUME
    assert host_location(mounts, "a", "/usr/bin") == "a:/usr/bin"
