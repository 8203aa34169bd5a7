"""The Dockerfile's image (FROM tfpython, COPY app.py ., CMD ["app.py"])
and examples/docker's application image on it, built with podman."""
import pytest

from conftest import SOURCE, run

APP_IMAGE = "localhost/tfpython-example-app"


@pytest.fixture(scope="module")
def base_image(podman):
    # Tagged as the name examples/docker/Dockerfile starts from.
    r = podman.build(SOURCE, tag="localhost/tfpython")
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    return "localhost/tfpython"


def test_the_image_runs_tfpython_in_app(podman, base_image):
    config = podman.config(base_image)
    assert config["Entrypoint"] == ["tfpython"] and config["WorkingDir"] == "/app"
    status, out = podman.run_in(base_image, ["tfpython", "-c", "import theframework; print(theframework.backend())"])
    assert status == 0 and out in ("epoll", "io_uring"), out


def test_the_runtime_stage_holds_no_build_tools(podman, base_image):
    status, out = podman.run_in(base_image, ["sh", "-c", (
        "for tool in cc c++ cmake make ninja; do command -v $tool; done; "
        "test -e /src && echo /src; dpkg-query -W -f='${Package}\\n' | grep -- '-dev$'; true")])
    assert status == 0 and out == "", out


CLIENT = """\
import time, urllib.request
for _ in range(100):
    try:
        print(urllib.request.urlopen("http://127.0.0.1:8000/", timeout=5).read().decode(), end="")
        break
    except OSError:
        time.sleep(0.1)
"""


def test_the_example_app_image_answers_an_http_request(podman, base_image):
    r = podman.build(SOURCE / "examples" / "docker", tag=APP_IMAGE)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    try:
        config = podman.config(APP_IMAGE)
        assert config["Entrypoint"] == ["tfpython"] and config["Cmd"] == ["app.py"]
        # What `podman run -p 8000:8000 IMAGE` starts, and a client beside it.
        serve_and_ask = '"$@" & server=$!; tfpython /tmp/client.py; status=$?; kill $server; exit $status'
        status, out = podman.run_in(APP_IMAGE, ["sh", "-c", serve_and_ask, "sh", *config["Entrypoint"], *config["Cmd"]],
                                    files={"client.py": CLIENT})
        assert status == 0 and "hello from tfpython" in out, out
    finally:
        run(["podman", "rmi", APP_IMAGE])
