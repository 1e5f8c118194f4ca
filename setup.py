"""Maps the repository's ``platform/`` folder to the ``clubplatform`` package.

Static setuptools configuration cannot discover subpackages under a renamed
folder, so they are listed here (see ARCHITECTURE.md: why ``platform`` is
imported as ``clubplatform``). Template and translation folders are listed as
namespace packages too, so that their files ship with ``package-data``.
"""

from setuptools import find_namespace_packages, setup

_skip = ["*__pycache__*"]


def _under(folder: str, name: str) -> list[str]:
    return [name] + [f"{name}.{p}" for p in find_namespace_packages(where=folder, exclude=_skip)]


setup(packages=_under("platform", "clubplatform") + _under("hq", "hq") + _under("chapter", "chapter"))
