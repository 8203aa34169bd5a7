"""Helpers for the packaging tests: the build tree they install from, and
podman images built from the Dockerfile and from the .deb."""
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("TFPYTHON_BUILD_DIR", SOURCE / "build" / "default"))
BASE_IMAGE = "docker.io/library/debian:bookworm-slim"  # the Dockerfile's
BEGIN, END = "=== container output begins ===", "=== container output ended with status"


def run(cmd, timeout=600, **kw):
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, **kw)


def tail(text, lines=40):
    return "\n".join(text.splitlines()[-lines:])


class Podman:
    """podman build, and commands run inside a built image.

    Images are built with --isolation=chroot: it needs nothing of the host
    but what podman itself needs (this project's CI machine builds images
    but cannot start a container: its crun refuses the machine's cgroups).
    For the same reason a command "in the image" runs as a build step, a RUN
    of a throwaway Containerfile FROM the image: the image's own filesystem,
    working directory and environment, under the engine's defaults (the
    default seccomp profile and open-file limit) as `podman run` has them."""

    def build(self, context, tag, timeout=1800):
        return run(["podman", "build", "--isolation=chroot", "-t", tag, context], timeout=timeout)

    def config(self, image):
        r = run(["podman", "image", "inspect", image])
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)[0]["Config"]

    def run_in(self, image, argv, setup=(), files=None, timeout=600):
        """(status, output) of argv run in the image, after the RUN lines
        of `setup` (shell commands), with `files` ({name: text}) in /tmp."""
        script = 'echo "%s"; "$@"; echo "%s $?"' % (BEGIN, END)
        lines = ["FROM %s" % image]
        lines += ["COPY %s /tmp/%s" % (name, name) for name in files or {}]
        lines += ["RUN %s" % s for s in setup]
        lines.append("RUN " + json.dumps(["sh", "-c", script, "sh", *argv]))
        with tempfile.TemporaryDirectory() as context:
            for name, text in (files or {}).items():
                Path(context, name).write_text(text)
            Path(context, "Containerfile").write_text("\n".join(lines) + "\n")
            iid = Path(context, "iid")
            r = run(["podman", "build", "--isolation=chroot", "--layers=false", "--iidfile", iid, context],
                    timeout=timeout)
            if iid.exists():
                run(["podman", "rmi", iid.read_text().strip()])
        out = r.stdout
        assert r.returncode == 0 and BEGIN in out and END in out, tail(out + r.stderr)
        # The last: podman also echoes the RUN line, markers and all.
        body, status = out.rsplit(BEGIN, 1)[1].split(END, 1)
        return int(status.split()[0]), body.strip("\n")


@pytest.fixture(scope="session")
def podman():
    """A podman that builds images here, with the base image made locally
    (packaging/make-debian-base-image.sh) when no registry gave it."""
    if shutil.which("podman") is None:
        pytest.skip("podman is not installed")
    if run(["podman", "image", "exists", BASE_IMAGE]).returncode != 0:
        r = run(["bash", SOURCE / "packaging" / "make-debian-base-image.sh"], timeout=1800)
        assert r.returncode == 0, tail(r.stdout + r.stderr)
    engine = Podman()
    with tempfile.TemporaryDirectory() as context:
        Path(context, "Containerfile").write_text("FROM %s\nRUN true\n" % BASE_IMAGE)
        r = run(["podman", "build", "--isolation=chroot", "--layers=false", "-q", context])
    if r.returncode != 0:
        pytest.skip("podman cannot build an image here: " + tail(r.stdout + r.stderr, 3))
    run(["podman", "rmi", r.stdout.strip()])
    untagged_before = untagged_images()
    yield engine
    # The stages and layers these builds left (hundreds of MB a run), not
    # the images they tagged, nor anything that was here before.
    left = [i for i in untagged_images() if i not in untagged_before]
    if left:
        run(["podman", "rmi", "--force", *left])


def untagged_images():
    r = run(["podman", "images", "--quiet", "--no-trunc", "--filter", "dangling=true"])
    return set(r.stdout.split())


@pytest.fixture(scope="session")
def deb_package():
    """`make package`'s .deb, built from the build tree under test."""
    r = run(["cmake", "--build", BUILD, "--target", "package"], timeout=900)
    assert r.returncode == 0, tail(r.stdout + r.stderr)
    debs = sorted(BUILD.glob("tfpython_*_amd64.deb"))
    assert len(debs) == 1, debs
    return debs[0]
