# tfpython's base image. Build it once:
#   podman build -t tfpython .        (or: docker build -t tfpython .)
# then an application's image is
#   FROM tfpython
#   COPY app.py .
#   CMD ["app.py"]
# (examples/docker/ is one). The stages: build (compile and package) ->
# test (the whole suite, inside the container) -> runtime (a slim Debian 12
# with the tested .deb installed, and nothing else of the build).
ARG DEBIAN=docker.io/library/debian:bookworm-slim

FROM ${DEBIAN} AS build
WORKDIR /src
# The Debian packages first, in a layer of their own, kept while the
# package list does not change.
COPY packaging/install-deps.sh packaging/
RUN bash packaging/install-deps.sh && rm -rf /var/lib/apt/lists/*
COPY . .
RUN make package

FROM build AS test
# The .deb leaves this stage only if the tests pass.
RUN ctest --test-dir build/default --output-on-failure \
 && mkdir /tested && cp build/default/tfpython_*_amd64.deb /tested/

FROM ${DEBIAN} AS runtime
COPY --from=test /tested/ /tmp/tfpython/
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends /tmp/tfpython/tfpython_*_amd64.deb \
 && rm -rf /var/lib/apt/lists/* /tmp/tfpython
WORKDIR /app
ENTRYPOINT ["tfpython"]
