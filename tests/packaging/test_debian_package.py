"""`make package`: the .deb's metadata and contents, and (with podman) the
package installed by apt on a bare Debian 12 and run from another
directory, with no source tree anywhere."""
import gzip
import re

from conftest import BASE_IMAGE, BUILD, SOURCE, run

INSTALLED = {
    "/usr/bin/tfpython",
    "/usr/lib/python3/dist-packages/theframework/__init__.py",
    "/usr/lib/python3/dist-packages/theframework/monkey/__main__.py",
    "/usr/lib/python3/dist-packages/_framework_core.cpython-311-x86_64-linux-gnu.so",
    "/usr/lib/python3/dist-packages/_framework_accel.cpython-311-x86_64-linux-gnu.so",
    "/usr/share/man/man1/tfpython.1.gz",
    "/usr/share/doc/tfpython/README.md",
    "/usr/share/doc/tfpython/examples/demo.py",
}


def field(deb, name):
    r = run(["dpkg-deb", "-f", deb, name])
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def test_the_file_is_named_as_debian_names_packages(deb_package):
    version = field(deb_package, "Version")
    assert deb_package.name == "tfpython_%s_amd64.deb" % version
    assert field(deb_package, "Package") == "tfpython"
    assert field(deb_package, "Architecture") == "amd64"


def test_depends_names_what_tfpython_needs_at_run_time(deb_package):
    depends = {d.split()[0] for d in field(deb_package, "Depends").split(", ")}
    # the stdlib of the libpython linked in (and so libssl3 for ssl), greenlet, the ring
    assert {"python3.11", "python3-greenlet", "liburing2", "libc6", "libstdc++6"} <= depends
    assert not any(d.endswith("-dev") for d in depends)


def test_the_contents_are_the_install_layout_under_usr(deb_package, tmp_path):
    listing = run(["dpkg-deb", "-c", deb_package]).stdout.splitlines()
    paths = {line.split()[-1].lstrip(".").rstrip("/") for line in listing}
    assert INSTALLED <= paths
    assert all(p in ("", "/usr") or p.startswith("/usr/") for p in paths), paths
    assert run(["dpkg-deb", "-x", deb_package, tmp_path]).returncode == 0
    for path in tmp_path.rglob("*"):
        if path.is_file():
            for tree in {str(SOURCE), str(BUILD)}:
                assert tree.encode() not in path.read_bytes(), (path, tree)


def test_the_man_page_documents_the_readmes_environment_variables(deb_package, tmp_path):
    assert run(["dpkg-deb", "-x", deb_package, tmp_path]).returncode == 0
    page = gzip.decompress((tmp_path / "usr/share/man/man1/tfpython.1.gz").read_bytes()).decode()
    assert page.startswith(".TH TFPYTHON 1")
    documented = set(re.findall(r"`(TFPYTHON_[A-Z_]+)=", (SOURCE / "README.md").read_text()))
    assert documented and all(".B %s=" % v in page for v in documented), documented


def test_apt_installs_it_on_a_bare_debian_and_the_demo_runs_elsewhere(
        podman, deb_package, tmp_path):
    context = tmp_path / "context"
    context.mkdir()
    (context / deb_package.name).write_bytes(deb_package.read_bytes())
    (context / "Containerfile").write_text(
        "FROM %s\n"
        # a bare Debian, not a slim one: docs and the man page install too
        "RUN rm -f /etc/dpkg/dpkg.cfg.d/docker\n"
        "COPY %s /root/\n"
        "RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive "
        "apt-get install -y -q --no-install-recommends /root/%s\n" % (BASE_IMAGE, deb_package.name, deb_package.name))
    r = podman.build(context, tag="localhost/tfpython-deb-test")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    try:
        status, files = podman.run_in("localhost/tfpython-deb-test", ["dpkg", "-L", "tfpython"])
        assert status == 0, files
        assert INSTALLED <= set(files.splitlines())
        assert str(SOURCE) not in files and str(BUILD) not in files

        copy_demo = ["mkdir -p /tmp/examples", "cp /usr/share/doc/tfpython/examples/demo.py /tmp/examples/"]
        status, out = podman.run_in("localhost/tfpython-deb-test",
                                    ["sh", "-c", "cd /tmp && tfpython examples/demo.py"], setup=copy_demo)
        assert status == 0 and " ok in " in out, out
        # ssl comes with the standard library python3.11 depends on (libssl3 among it)
        status, out = podman.run_in("localhost/tfpython-deb-test", ["tfpython", "-c", "import ssl; print(ssl.OPENSSL_VERSION)"])
        assert status == 0 and out.startswith("OpenSSL 3."), out
        status, out = podman.run_in("localhost/tfpython-deb-test",
                                    ["sh", "-c", "cd /tmp && python3 -m theframework.monkey examples/demo.py"],
                                    setup=copy_demo)
        assert status == 0 and " ok in " in out, out
    finally:
        run(["podman", "rmi", "localhost/tfpython-deb-test"])
