"""What ``transfer/returned.py`` deletes, and what it never touches.

Each rule with the file system itself: ``watched_tmp`` is the temp dir,
``tmp_path / "model"`` stands for everything outside it.
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import pytest

from cogrt.transfer.returned import ReturnedFiles, delete_returned, files_clock
from tests.support.waiting import until


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    path = tmp_path / "model"
    path.mkdir()
    return path


def fresh(name: str = "out.png", data: bytes = b"png") -> Path:
    out = Path(tempfile.mkdtemp()) / name
    out.write_bytes(data)
    return out


def test_the_seed_pattern_leaves_nothing(watched_tmp: Path) -> None:
    returned = ReturnedFiles()
    out = fresh()
    returned.add(out)
    assert returned.release() == 1
    assert list(watched_tmp.iterdir()) == []


def test_a_file_returned_twice_is_deleted_once(watched_tmp: Path) -> None:
    returned = ReturnedFiles()
    out = fresh()
    for _ in range(3):
        returned.add(out)
    returned.add(Path(os.path.relpath(out)))  # the same file, spelled differently
    assert returned.release() == 1
    assert list(watched_tmp.iterdir()) == []


def test_files_outside_the_temp_dir_are_never_deleted(watched_tmp: Path, model_dir: Path) -> None:
    asset = model_dir / "asset.png"
    returned = ReturnedFiles()
    asset.write_bytes(b"asset")
    returned.add(asset)
    returned.add(Path(watched_tmp, "..", "model", "asset.png"))  # ".." does not get it in
    assert returned.release() == 0
    assert asset.read_bytes() == b"asset"


def test_a_symlink_in_the_temp_dir_to_a_file_outside_keeps_both(
    watched_tmp: Path, model_dir: Path
) -> None:
    asset = model_dir / "asset.png"
    asset.write_bytes(b"asset")
    returned = ReturnedFiles()
    link = Path(tempfile.mkdtemp()) / "link.png"
    link.symlink_to(asset)
    returned.add(link)
    assert returned.release() == 0
    assert asset.read_bytes() == b"asset" and link.is_symlink()


def test_a_symlinked_temp_dir_is_resolved(
    tmp_path: Path, watched_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``$TMPDIR`` reached through a symlink (macOS's /var -> /private/var) still counts."""
    alias = tmp_path / "alias"
    alias.symlink_to(watched_tmp)
    monkeypatch.setattr(tempfile, "tempdir", str(alias))
    returned = ReturnedFiles()
    out = fresh()
    assert str(out).startswith(str(alias))
    returned.add(out)
    assert returned.release() == 1
    assert list(watched_tmp.iterdir()) == []


def test_file_objects_and_directories_are_never_deleted(watched_tmp: Path) -> None:
    returned = ReturnedFiles()
    folder = Path(tempfile.mkdtemp())
    (folder / "inside.txt").write_text("kept")
    with open(folder / "inside.txt", "rb") as handle:
        returned.add(handle)
        returned.add(io.BytesIO(b"bytes"))
    returned.add(folder)
    assert returned.release() == 0
    assert (folder / "inside.txt").read_text() == "kept"


def test_a_file_written_before_the_prediction_is_kept(watched_tmp: Path) -> None:
    """A placeholder ``setup()`` wrote: returned as it is, it survives (ctime before ``since``)."""
    placeholder = fresh("placeholder.png")
    since = placeholder.stat().st_ctime + 0.001
    assert delete_returned([str(placeholder)], since=since) == 0
    assert placeholder.read_bytes() == b"png"


async def test_a_file_rewritten_during_the_prediction_goes(watched_tmp: Path) -> None:
    out = fresh()
    stamp = out.stat().st_ctime
    returned = ReturnedFiles()
    await until(lambda: files_clock() > stamp)  # the file's tick is over ...
    out.write_bytes(b"new")  # ... so this write is the prediction's
    returned.add(out)
    assert returned.release() == 1


def test_local_input_files_are_kept(watched_tmp: Path) -> None:
    """``predict -i image=@photo.png``: the user's file, even if the predictor returns it."""
    returned = ReturnedFiles()
    photo = fresh("photo.png")
    returned.keep([str(photo)])
    returned.add(photo)
    assert returned.release() == 0
    assert photo.read_bytes() == b"png"


def test_a_directory_goes_only_when_empty(watched_tmp: Path) -> None:
    returned = ReturnedFiles()
    out = fresh()
    (out.parent / "not-returned.txt").write_text("the predictor's")
    returned.add(out)
    assert returned.release() == 1
    assert [p.name for p in out.parent.iterdir()] == ["not-returned.txt"]


async def test_a_directory_made_before_the_prediction_stays(watched_tmp: Path) -> None:
    """``setup()`` made it with ``mkdtemp()``; each prediction writes its output there."""
    workdir = Path(tempfile.mkdtemp())
    stamp = workdir.stat().st_ctime
    await until(lambda: files_clock() > stamp)  # the prediction starts after it was made
    returned = ReturnedFiles()
    out = workdir / "out.png"
    out.write_bytes(b"png")
    returned.add(out)
    assert returned.release() == 1
    assert workdir.is_dir()


def test_only_private_directories_right_in_the_temp_dir_go(watched_tmp: Path) -> None:
    returned = ReturnedFiles()
    shared = watched_tmp / "outputs"  # os.makedirs: 0o755, not mkdtemp's 0o700
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    nested = Path(tempfile.mkdtemp()) / "sub"
    nested.mkdir(mode=0o700)
    outs = [shared / "a.png", nested / "b.png"]
    for out in outs:
        out.write_bytes(b"png")
        returned.add(out)
    assert returned.release() == 2
    assert shared.is_dir() and nested.is_dir()


def test_a_file_directly_in_the_temp_dir_goes_and_the_temp_dir_stays(watched_tmp: Path) -> None:
    """The second seed document's ``Path(f"/tmp/out-{i}.txt")``."""
    returned = ReturnedFiles()
    out = watched_tmp / "out-0.txt"
    out.write_text("foo")
    returned.add(out)
    assert returned.release() == 1
    assert watched_tmp.is_dir() and list(watched_tmp.iterdir()) == []


def test_a_missing_file_is_no_error(watched_tmp: Path) -> None:
    returned = ReturnedFiles()
    out = fresh()
    returned.add(out)
    out.unlink()
    assert returned.release() == 0
    assert not returned  # released: nothing left to do


def test_dot_dot_after_a_symlink_is_followed_as_open_follows_it(
    watched_tmp: Path, model_dir: Path
) -> None:
    """``<tmp>/link/../victim`` is ``model/victim`` (where ``link`` leads), not ``<tmp>/victim``."""
    (model_dir / "sub").mkdir()
    (model_dir / "victim.png").write_bytes(b"model's")
    returned = ReturnedFiles()
    (watched_tmp / "victim.png").write_bytes(b"temp")  # what a spelling-only ".." would pick
    (watched_tmp / "link").symlink_to(model_dir / "sub")
    returned.add(Path(f"{watched_tmp}/link/../victim.png"))
    assert returned.release() == 0
    assert (watched_tmp / "victim.png").read_bytes() == b"temp"
    assert (model_dir / "victim.png").read_bytes() == b"model's"
