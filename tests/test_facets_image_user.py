"""diff --live's identity facet on a container whose user comes from its image (found on argo-cd's install)."""

from __future__ import annotations

from parity.facets import container_facets


def test_a_containers_user_copied_from_its_image_is_the_images_user_live():
    """The engine copies an image's USER into ``Config.User`` of a container that sets none (argo-cd's
    images: 999): diff --live read it as a user set against the cluster's "the image's USER" and found
    every argo-cd container different, where the static diff of the same compose found none."""
    attrs = {"Config": {"User": "999"}, "HostConfig": {}}
    assert container_facets(attrs, None, image_user="999").user is None
    assert container_facets(attrs, None, image_user=None).user == "999"  # set by the compose file: a user
    assert container_facets({"Config": {"User": "1000"}, "HostConfig": {}}, None, image_user="999").user == "1000"


def test_a_run_as_user_equal_to_the_images_user_is_no_difference_live():
    """``runAsUser: 999`` on an image whose USER is 999: the engine's ``Config.User`` is 999 either way,
    so it is read as set when 999 is what the comparison expects (it read as "the image's USER" and
    reported ``(user) identity: 999 vs the image's USER`` live, where the static diff found none)."""
    attrs = {"Config": {"User": "999"}, "HostConfig": {}}
    assert container_facets(attrs, None, image_user="999", expected_user="999").user == "999"
    assert container_facets(attrs, None, image_user="999", expected_user=None).user is None
    assert container_facets(attrs, None, image_user="999", expected_user="1000").user is None  # 1000 vs image's
