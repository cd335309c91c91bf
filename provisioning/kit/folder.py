"""The kits folder on disk (``xtenant kit --out``, ``reconcile``): compared, replaced and read
without following a symbolic link or opening a FIFO that someone put there.

The folder lives in a repository that pull requests change: ``kits/litware`` may have become
a link to the runner's home, ``kits/litware/index.html`` a link to a file to overwrite, and
``kit.json`` anything at all. Below the folder the user names, nothing is followed: a link is
reported, a file is compared only when it is a regular file, a kit is read within bounds.
"""

from __future__ import annotations

import filecmp
import os
import shutil
import stat
from pathlib import Path
from typing import Any

from provisioning.core import bounded


class KitFolderError(OSError):
    """A folder or file in the kits folder that xtenant will not read or write through."""


def check_folder(path: Path) -> None:
    """Refuse ``path`` when it is a symbolic link or anything but a folder (missing is fine)."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    if stat.S_ISLNK(mode):
        raise KitFolderError(
            f"{path} is a symbolic link: xtenant neither reads nor writes through it "
            "(replace it with a folder, or remove it)"
        )
    if not stat.S_ISDIR(mode):
        raise KitFolderError(f"{path} is not a folder")


def same_tree(new: Path, have: Path) -> bool:
    """True when ``have`` holds exactly the regular files and folders of ``new`` with the same
    bytes. A link, a FIFO or a device anywhere in ``have`` makes it differ (it is replaced)."""
    try:
        ours = {e.name: e for e in os.scandir(new)}
        theirs = {e.name: e for e in os.scandir(have)}
    except OSError:
        return False
    if ours.keys() != theirs.keys():
        return False
    for name, entry in ours.items():
        other = theirs[name]
        if other.is_symlink():
            return False
        if entry.is_dir(follow_symlinks=False):
            if not other.is_dir(follow_symlinks=False) or not same_tree(Path(entry), Path(other)):
                return False
        elif not other.is_file(follow_symlinks=False) or not filecmp.cmp(
            entry.path, other.path, shallow=False
        ):
            return False
    return True


def replace_tree(new: Path, have: Path) -> None:
    """Put a copy of ``new`` where ``have`` is: the old tree is removed without following a
    link inside it (``shutil.rmtree``), then new files are created."""
    check_folder(have)
    if have.exists():
        shutil.rmtree(have)
    shutil.copytree(new, have)


def move_tree(src: Path, dest: Path) -> None:
    """Move a kit folder (offboarding), replacing an older ``dest``."""
    check_folder(src)
    check_folder(dest.parent)
    check_folder(dest)
    if dest.exists():
        shutil.rmtree(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(src, dest)


def kit_summary(folder: Path) -> tuple[str, str]:
    """``(customer tenant, app key)`` of the kit in ``folder``, read within bounds; the
    ``KitFolderError`` says why when it cannot be (a link, not a kit, not JSON, ...)."""
    check_folder(folder)
    path = folder / "kit.json"
    try:
        data: Any = bounded.load_json(bounded.read_text(path))
    except bounded.InputError as exc:
        raise KitFolderError(f"{path}: {exc}") from None
    except ValueError as exc:  # json.JSONDecodeError
        raise KitFolderError(f"{path}: not valid JSON ({exc})") from None
    customer = data.get("customer") if isinstance(data, dict) else None
    home = data.get("home") if isinstance(data, dict) else None
    app = home.get("app") if isinstance(home, dict) else None
    tenant = customer.get("tenant") if isinstance(customer, dict) else None
    key = app.get("key") if isinstance(app, dict) else None
    if not (isinstance(tenant, str) and isinstance(key, str)):
        raise KitFolderError(f"{path}: not a kit (no customer.tenant and home.app.key)")
    return tenant, key
