"""The writer on its own: few changes are replaced in place, many swap the whole tree;
either way the output folder ends up holding exactly the build's files."""

from __future__ import annotations

import os
from pathlib import Path

from site_builder.write import IN_PLACE_MIN, Previous, file_digest, write_tree


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def pages(n: int, text: str = "page") -> dict[str, bytes]:
    return {f"articles/a{i:04d}/index.html": f"<p>{text} {i}</p>".encode() for i in range(n)}


def test_a_small_change_is_written_in_place(tmp_path: Path) -> None:
    out = tmp_path / "public"
    files = {**pages(200), "index.html": b"<p>home</p>"}
    write_tree(str(out), files)
    folder_inode = out.stat().st_ino
    kept_inode = (out / "articles/a0001/index.html").stat().st_ino
    files["articles/a0000/index.html"] = b"<p>edited</p>"
    del files["articles/a0199/index.html"]
    stats = write_tree(str(out), files)
    assert (stats.written, stats.removed) == (1, 1)
    assert out.stat().st_ino == folder_inode  # not swapped
    assert (out / "articles/a0001/index.html").stat().st_ino == kept_inode
    assert not (out / "articles/a0199").exists()  # the emptied folder goes too
    assert tree(out) == files
    assert not list(tmp_path.glob(".public.*"))
    st = (out / "articles/a0000/index.html").stat()
    assert stats.manifest["articles/a0000/index.html"] == (file_digest(b"<p>edited</p>"), st.st_size, st.st_mtime_ns)


def test_many_changes_swap_the_whole_tree(tmp_path: Path) -> None:
    out = tmp_path / "public"
    write_tree(str(out), pages(IN_PLACE_MIN * 2))
    folder_inode = out.stat().st_ino
    files = pages(IN_PLACE_MIN * 2, "retitled")
    stats = write_tree(str(out), files)
    assert stats.written == IN_PLACE_MIN * 2
    assert out.stat().st_ino != folder_inode
    assert tree(out) == files
    assert not list(tmp_path.glob(".public.*"))


def test_previous_files_are_carried_over_in_either_mode(tmp_path: Path) -> None:
    out = tmp_path / "public"
    first = pages(IN_PLACE_MIN * 2)
    write_tree(str(out), first)
    carried = {k: Previous(file_digest(v)) for k, v in first.items()}
    write_tree(str(out), {**carried, "new.html": b"new"})  # in place
    assert tree(out) == {**first, "new.html": b"new"}
    kept = dict(list(carried.items())[:IN_PLACE_MIN])
    fresh = {f"new/{i}.html": b"new" for i in range(IN_PLACE_MIN * 3)}
    folder_inode = out.stat().st_ino
    stats = write_tree(str(out), {**kept, **fresh})  # swapped
    assert out.stat().st_ino != folder_inode
    assert (stats.kept, stats.written, stats.removed) == (IN_PLACE_MIN, IN_PLACE_MIN * 3, IN_PLACE_MIN + 1)  # + new.html
    assert tree(out) == {**{k: first[k] for k in kept}, **fresh}


def test_a_file_that_becomes_a_folder_and_back(tmp_path: Path) -> None:
    out = tmp_path / "public"
    write_tree(str(out), {"index.html": b"x", "tags": b"a file"})
    write_tree(str(out), {"index.html": b"x", "tags/index.html": b"a page"})
    assert tree(out) == {"index.html": b"x", "tags/index.html": b"a page"}
    write_tree(str(out), {"index.html": b"x", "tags": b"a file again"})
    assert tree(out) == {"index.html": b"x", "tags": b"a file again"}


def test_a_temporary_file_left_by_a_killed_build_is_removed(tmp_path: Path) -> None:
    out = tmp_path / "public"
    files = {"index.html": b"home", "articles/a/index.html": b"a"}
    write_tree(str(out), files)
    stray = out / "articles" / "a" / f".index.html.sb-tmp-{os.getpid() + 1}"
    stray.write_bytes(b"half")
    write_tree(str(out), {**files, "articles/a/index.html": b"a, edited"})
    assert tree(out) == {**files, "articles/a/index.html": b"a, edited"}


def test_a_symlinked_folder_in_the_output_is_never_written_through(tmp_path: Path) -> None:
    out = tmp_path / "public"
    files = {"index.html": b"home", "articles/a/index.html": b"a"}
    write_tree(str(out), files)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_bytes(b"not the site's")
    os.rename(out / "articles", tmp_path / "old-articles")
    (out / "articles").symlink_to(elsewhere, target_is_directory=True)
    write_tree(str(out), {**files, "articles/a/index.html": b"a, edited"})
    assert tree(elsewhere) == {"keep.txt": b"not the site's"}
    assert not (out / "articles").is_symlink()
    assert tree(out) == {**files, "articles/a/index.html": b"a, edited"}
