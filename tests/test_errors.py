"""The exception tree: one documented tree, every class of it public."""

from __future__ import annotations

import inspect

import assistant
from assistant import errors


def _classes() -> dict[str, type[BaseException]]:
    return {name: value for name, value in vars(errors).items()
            if inspect.isclass(value) and issubclass(value, errors.AssistantError)
            and value.__name__ == name}


def test_every_error_is_drawn_in_the_tree_under_its_parent() -> None:
    tree = errors.__doc__ or ""
    lines = tree.splitlines()
    for name, cls in _classes().items():
        drawn = [i for i, line in enumerate(lines) if f" {name} " in f"{line} "]
        assert drawn, f"{name} is not drawn in assistant/errors.py's tree"
        if cls is errors.AssistantError:
            continue
        parent = cls.__mro__[1].__name__
        depth = lines[drawn[0]].index(name)
        above = [line for line in lines[:drawn[0]] if parent in line]
        assert above and above[-1].index(parent) < depth, f"{name} is not drawn under {parent}"


def test_every_error_is_public_and_has_a_docstring() -> None:
    for name, cls in _classes().items():
        assert name in assistant.__all__, f"{name} is missing from assistant.__all__"
        assert getattr(assistant, name) is cls
        assert cls.__doc__, f"{name} says nothing of when it is raised"


def test_the_old_name_still_imports() -> None:
    assert assistant.IndexError_ is assistant.IndexFolderError
