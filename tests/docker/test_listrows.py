"""A container list row's name (parity/docker/listrows.py), as ``docker ps`` shows it: one rule for
``up`` (the containers it removes before a volume is recreated), ``containers_named``, the sweep of
dead live diffs and a live diff's teardown."""

from __future__ import annotations

import pytest

from parity.docker.listrows import container_name

ID = "0123456789abcdef" * 4


@pytest.mark.parametrize("names, expected", [
    (["/web"], "web"),  # the Engine API's leading "/" is not part of the name
    (["/web-b/alias", "/web-a"], "web-a"),  # web-b links to it (--link web-a:alias): as the engine lists it
    (["/web-a", "/web-b/alias"], "web-a"),
    (["web"], "web"),  # (no leading "/": taken as it is)
])
def test_the_name_is_the_first_without_a_slash_once_the_leading_one_is_stripped(names, expected):
    assert container_name({"Id": ID, "Names": names}) == expected


@pytest.mark.parametrize("row", [{"Id": ID}, {"Id": ID, "Names": None}, {"Id": ID, "Names": []},
                                 {"Id": ID, "Names": ["/linker/alias"]}])
def test_a_row_without_a_name_is_named_by_its_short_id(row):
    # A container being removed (dead) may be listed without names: the engine sends [].
    assert container_name(row) == "0123456789ab"
