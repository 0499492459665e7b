#!/usr/bin/env bash
# Stand-ins for the Containerfile's two public base images, for a machine
# that cannot pull images (like the one CI runs on). Both are made from a
# Debian bookworm root file system that `debootstrap` fetches from Debian's
# package mirror:
#
#   localhost/bookshop-chef:bookworm     ~ lukemathwalker/cargo-chef:latest-rust-1-bookworm:
#                                          gcc, libc headers, this machine's
#                                          Rust toolchain and cargo-chef
#   localhost/bookshop-runtime:bookworm  ~ gcr.io/distroless/cc-debian12:nonroot:
#                                          glibc, libgcc, CA certificates and a
#                                          `nonroot` user (65532); no shell
#
# Idempotent: an image that exists is left alone. Needs root, podman,
# debootstrap, and cargo-chef on PATH.
set -euo pipefail

cache="${BOOKSHOP_IMAGE_CACHE:-/var/cache/bookshop-ci/rootfs}"
chef_image=localhost/bookshop-chef:bookworm
runtime_image=localhost/bookshop-runtime:bookworm
mkdir -p "$cache"

bookworm="$cache/bookworm"
if [ ! -x "$bookworm/usr/bin/gcc" ]; then
    rm -rf "$bookworm"
    debootstrap --variant=minbase \
        --include=gcc,libc6-dev,ca-certificates \
        bookworm "$bookworm" http://deb.debian.org/debian
    rm -rf "$bookworm"/var/cache/apt/archives/*.deb
fi

if ! podman image exists "$runtime_image"; then
    staging="$cache/runtime"
    rm -rf "$staging"
    mkdir -p "$staging"/{etc/ssl/certs,lib/x86_64-linux-gnu,lib64,tmp,home/nonroot}
    chmod 1777 "$staging/tmp"
    for library in libc.so.6 libm.so.6 libgcc_s.so.1 libdl.so.2 libpthread.so.0 librt.so.1; do
        cp -aL "$bookworm/lib/x86_64-linux-gnu/$library" "$staging/lib/x86_64-linux-gnu/"
    done
    cp -aL "$bookworm/lib64/ld-linux-x86-64.so.2" "$staging/lib64/"
    cp -aL "$bookworm/etc/ssl/certs/ca-certificates.crt" "$staging/etc/ssl/certs/"
    printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' \
        > "$staging/etc/passwd"
    printf 'root:x:0:\nnonroot:x:65532:\n' > "$staging/etc/group"
    chown 65532:65532 "$staging/home/nonroot"
    tar -C "$staging" -c . | podman import - "$runtime_image"
    rm -rf "$staging"
fi

if ! podman image exists "$chef_image"; then
    command -v cargo-chef >/dev/null || {
        echo "cargo-chef is not on PATH: cargo install --locked cargo-chef@0.1.73" >&2
        exit 1
    }
    toolchain="$(rustc --print sysroot)"
    staging="$cache/chef"
    rm -rf "$staging"
    cp -a "$bookworm" "$staging"
    mkdir -p "$staging/usr/local/rust/bin" "$staging/usr/local/cargo/bin"
    cp -a "$toolchain/bin/cargo" "$toolchain/bin/rustc" "$staging/usr/local/rust/bin/"
    cp -a "$toolchain/lib" "$staging/usr/local/rust/"
    cp -a "$(command -v cargo-chef)" "$staging/usr/local/cargo/bin/"
    # Cargo in the build fetches crates; trust what this machine trusts
    # (on some networks a proxy presents its own certificate authority).
    cp -L /etc/ssl/certs/ca-certificates.crt "$staging/etc/ssl/certs/ca-certificates.crt"
    tar -C "$staging" -c . | podman import \
        --change 'ENV CARGO_HOME=/usr/local/cargo' \
        --change 'ENV PATH=/usr/local/cargo/bin:/usr/local/rust/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        - "$chef_image"
    rm -rf "$staging"
fi

podman image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' \
    | grep -E "bookshop-(chef|runtime)"
