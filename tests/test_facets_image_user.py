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
