"""The install layout: `cmake --install` to a temporary DESTDIR with the
prefixes users choose, then the installed tfpython run with the source and
build trees out of reach."""
import marshal
import os
import shutil

import pytest

from conftest import BUILD, SOURCE, run, tail

PREFIXES = ["/usr", "/usr/local", "/opt/tfpython"]
PACKAGE_DIR = "lib/python3/dist-packages"  # below the prefix, for every prefix


def install(destdir, prefix):
    r = run(["cmake", "--install", BUILD, "--prefix", prefix, "--strip"],
            env=dict(os.environ, DESTDIR=str(destdir)))
    assert r.returncode == 0, tail(r.stdout + r.stderr)
    return destdir / prefix.lstrip("/")


def hidden_from(*trees):
    """A command prefix that runs a program in a mount namespace where each
    tree is an empty directory (nothing on the host changes)."""
    outermost = [t for t in trees if not any(o != t and o in t.parents for o in trees)]
    mounts = " && ".join('mount -t tmpfs none "%s"' % t for t in outermost)
    for unshare in (["unshare", "--mount"], ["unshare", "--mount", "--map-root-user"]):
        probe = run(unshare + ["sh", "-c", mounts + ' && [ -z "$(ls -A "%s")" ]' % trees[0]])
        if probe.returncode == 0:
            return unshare + ["sh", "-c", mounts + ' && exec "$@"', "sh"]
    pytest.skip("cannot hide the source tree in a mount namespace here: " + probe.stderr.strip())


@pytest.fixture(params=PREFIXES)
def installed(request, tmp_path):
    root = install(tmp_path / "destdir", request.param)
    return request.param, root


def test_the_demo_runs_from_an_install_with_the_source_tree_out_of_reach(installed, tmp_path):
    prefix, root = installed
    hide = hidden_from(SOURCE, BUILD)
    workdir = tmp_path / "elsewhere"
    (workdir / "examples").mkdir(parents=True)
    shutil.copy(root / "share/doc/tfpython/examples/demo.py", workdir / "examples")
    r = run(hide + [root / "bin/tfpython", "examples/demo.py"], cwd=workdir, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert " ok in " in r.stdout and "threads are fibers on the" in r.stdout, r.stdout

    where = run(hide + [root / "bin/tfpython", "-c",
                        "import theframework, sys; print(theframework.__file__); print(sys.executable)"])
    assert where.returncode == 0, where.stderr
    assert where.stdout.split() == [str(root / PACKAGE_DIR / "theframework/__init__.py"),
                                    str(root / "bin/tfpython")]


def test_plain_python3_runs_a_program_patched_from_the_install(installed, tmp_path):
    prefix, root = installed
    hide = hidden_from(SOURCE, BUILD)
    shutil.copy(root / "share/doc/tfpython/examples/demo.py", tmp_path)
    env = dict(os.environ, PYTHONPATH=str(root / PACKAGE_DIR))
    r = run(hide + ["/usr/bin/python3.11", "-m", "theframework.monkey", "demo.py"],
            cwd=tmp_path, env=env, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "threads are fibers on the" in r.stdout and " ok in " in r.stdout, r.stdout


def test_the_bytecode_names_the_installed_sources_not_the_destdir(installed):
    prefix, root = installed
    pycs = sorted((root / PACKAGE_DIR / "theframework").rglob("*.cpython-311.pyc"))
    sources = sorted((root / PACKAGE_DIR / "theframework").rglob("*.py"))
    assert len(pycs) == len(sources) > 10
    for pyc in pycs:
        with open(pyc, "rb") as f:
            f.read(16)  # magic, flags, source mtime and size
            code = marshal.load(f)
        final = os.path.join(prefix, PACKAGE_DIR, "theframework")
        assert code.co_filename.startswith(final + "/"), (pyc, code.co_filename)


def test_nothing_installed_names_the_build_machines_trees(installed):
    prefix, root = installed
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for tree in {str(SOURCE), str(BUILD)}:
                assert tree.encode() not in data, (path, tree)
    assert not list(root.rglob("tfpython-source-pylib.txt"))


def test_an_install_without_its_package_says_where_it_looked(tmp_path):
    root = install(tmp_path / "destdir", "/opt/broken")
    shutil.rmtree(root / PACKAGE_DIR / "theframework")
    r = run([root / "bin/tfpython", "-c", "print('ran')"])
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr == ("tfpython: cannot find the theframework package: looked in %s (an installed "
                        "tfpython) and for %s (a build tree)\n"
                        % (root / "bin/../lib/python3/dist-packages", root / "bin/tfpython-source-pylib.txt"))
