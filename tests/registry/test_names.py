"""Names that could escape the root are refused; unknown names get the closest existing ones."""

from __future__ import annotations

import pytest

import registry
from registry.errors import NotFoundError, UnsafeNameError

from .conftest import make_frame


@pytest.mark.parametrize("name", ["../x", "/", "", "a/b", "..", ".hidden", "x y", "a\\b", "x" * 200])
def test_unsafe_dataset_names_are_refused(root, name):
    with pytest.raises(UnsafeNameError):
        registry.commit(make_frame(3), name=name, lineage={}, root=root)


@pytest.mark.parametrize("alias", ["../stable", "latest", "3", "", "a/b"])
def test_unsafe_or_reserved_aliases_are_refused(root, alias):
    registry.commit(make_frame(3), name="notes", lineage={}, root=root)
    with pytest.raises(UnsafeNameError):
        registry.set_alias("notes@1", alias, root=root)


def test_unknown_dataset_names_closest(root):
    registry.commit(make_frame(3), name="alpaca", lineage={}, root=root)
    registry.commit(make_frame(3), name="dolly", lineage={}, root=root)
    with pytest.raises(NotFoundError, match="closest: alpaca"):
        registry.resolve("alpacca@1", root=root)


def test_unknown_version_and_alias_explained(root):
    registry.commit(make_frame(3), name="alpaca", lineage={}, root=root)
    registry.set_alias("alpaca@1", "stable", root=root)
    with pytest.raises(NotFoundError, match="has versions 1..1"):
        registry.resolve("alpaca@4", root=root)
    with pytest.raises(NotFoundError, match="closest: stable"):
        registry.resolve("alpaca@stabel", root=root)


def test_secrets_never_enter_the_manifest(root):
    v = registry.commit(make_frame(3), name="gen", lineage={"generator": {"api_key": "sk-123", "model": "m"}},
                        root=root)
    assert v.manifest["lineage"]["generator"] == {"api_key": "<redacted>", "model": "m"}


@pytest.mark.parametrize("name", ["notes\n", "notes\r\n", "\nnotes"])
def test_names_with_a_newline_are_refused(root, name):
    with pytest.raises(UnsafeNameError):
        registry.commit(make_frame(3), name=name, lineage={}, root=root)


@pytest.mark.parametrize("alias", ["stable\n", "st\nable"])
def test_aliases_with_a_newline_are_refused(root, alias):
    registry.commit(make_frame(3), name="notes", lineage={}, root=root)
    with pytest.raises(UnsafeNameError):
        registry.set_alias("notes@1", alias, root=root)


@pytest.mark.parametrize("ref", ["notes@1\n", "notes\n@1", "notes@abcd\n"])
def test_references_with_a_newline_are_refused(ref):
    from registry.names import parse_ref

    with pytest.raises(UnsafeNameError):
        parse_ref(ref)


def test_finetune_does_not_take_a_newline_reference_for_a_registry_ref():
    from finetune.dataset import is_registry_ref

    assert is_registry_ref("notes@1")
    assert not is_registry_ref("notes@1\n")
