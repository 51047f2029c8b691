#!/bin/sh
# Install trailctl, then optionally run it:
#
#   curl -fsSL <base>/install.sh | sh
#   curl -fsSL <base>/install.sh | sh -s -- setup --collector-account 111122223333
#
# Downloads the archive for this OS and CPU and the release's SHA256SUMS,
# verifies the archive's checksum before unpacking anything, and installs the
# binary into ~/.local/bin (or $TRAILCTL_INSTALL_DIR). Fails closed: on a
# wrong checksum, a failed download or an unknown platform it exits non-zero
# and installs nothing.
#
# Environment:
#   TRAILCTL_DOWNLOAD_URL  where the archives and SHA256SUMS are
#                          (default: the project's latest release)
#   TRAILCTL_INSTALL_DIR   where the binary goes (default: ~/.local/bin)
#   TRAILCTL_OS, TRAILCTL_ARCH  override what `uname` says (cross-installs)
set -eu

DEFAULT_URL="https://github.com/trailctl/trailctl/releases/latest/download"
BASE_URL="${TRAILCTL_DOWNLOAD_URL:-$DEFAULT_URL}"
INSTALL_DIR="${TRAILCTL_INSTALL_DIR:-${HOME}/.local/bin}"

say() { printf 'trailctl-install: %s\n' "$*" >&2; }
fail() {
    say "error: $*"
    say "nothing was installed"
    exit 1
}

platform() {
    os="${TRAILCTL_OS:-$(uname -s)}"
    arch="${TRAILCTL_ARCH:-$(uname -m)}"
    case "$os" in
        Linux | linux) os=linux ;;
        Darwin | darwin | macos) os=macos ;;
        *) fail "unsupported operating system '$os' (trailctl is built for Linux and macOS)" ;;
    esac
    case "$arch" in
        x86_64 | amd64) arch=x86_64 ;;
        aarch64 | arm64) arch=aarch64 ;;
        *) fail "unsupported CPU architecture '$arch' (trailctl is built for x86_64 and aarch64)" ;;
    esac
    echo "trailctl-${os}-${arch}"
}

download() { # url file
    if command -v curl >/dev/null 2>&1; then
        curl --proto '=https,http' -fsSL --retry 2 -o "$2" "$1"
    elif command -v wget >/dev/null 2>&1; then
        wget -q -O "$2" "$1"
    else
        fail "neither curl nor wget is available to download with"
    fi
}

sha256() { # file
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$1" | cut -d ' ' -f 1
    elif command -v shasum >/dev/null 2>&1; then
        shasum -a 256 "$1" | cut -d ' ' -f 1
    else
        fail "neither sha256sum nor shasum is available to verify the download"
    fi
}

main() {
    # `sh install.sh -- args` passes the `--` through; `sh -s -- args` does not.
    if [ "${1:-}" = "--" ]; then
        shift
    fi
    name="$(platform)"
    archive="${name}.tar.gz"

    tmp="$(mktemp -d 2>/dev/null || mktemp -d -t trailctl)"
    trap 'rm -rf "$tmp"' EXIT INT TERM

    say "downloading ${BASE_URL}/${archive}"
    download "${BASE_URL}/${archive}" "${tmp}/${archive}" ||
        fail "could not download ${BASE_URL}/${archive}"
    download "${BASE_URL}/SHA256SUMS" "${tmp}/SHA256SUMS" ||
        fail "could not download ${BASE_URL}/SHA256SUMS"

    expected="$(awk -v f="$archive" '$2 == f || $2 == "*" f { print $1 }' "${tmp}/SHA256SUMS")"
    [ -n "$expected" ] || fail "SHA256SUMS has no entry for ${archive}"
    actual="$(sha256 "${tmp}/${archive}")"
    [ "$expected" = "$actual" ] ||
        fail "the checksum did not match for ${archive} (expected ${expected}, got ${actual})"

    mkdir "${tmp}/unpacked"
    tar -xzf "${tmp}/${archive}" -C "${tmp}/unpacked" trailctl ||
        fail "could not unpack ${archive}"
    mkdir -p "$INSTALL_DIR" || fail "cannot create ${INSTALL_DIR}"
    # Copy next to the target, then rename: an interrupted install never
    # leaves half a binary where `trailctl` is expected.
    if ! { cp "${tmp}/unpacked/trailctl" "${INSTALL_DIR}/.trailctl.new" &&
        chmod 755 "${INSTALL_DIR}/.trailctl.new" &&
        mv -f "${INSTALL_DIR}/.trailctl.new" "${INSTALL_DIR}/trailctl"; }; then
        rm -f "${INSTALL_DIR}/.trailctl.new"
        fail "cannot write to ${INSTALL_DIR}"
    fi

    say "installed $("${INSTALL_DIR}/trailctl" --version) into ${INSTALL_DIR}"
    case ":${PATH}:" in
        *":${INSTALL_DIR}:"*) run="trailctl" ;;
        *)
            say "${INSTALL_DIR} is not on your PATH; add it with:"
            say "  export PATH=\"${INSTALL_DIR}:\$PATH\""
            run="${INSTALL_DIR}/trailctl"
            ;;
    esac
    if [ "$#" -gt 0 ]; then
        rm -rf "$tmp"
        trap - EXIT INT TERM
        exec "${INSTALL_DIR}/trailctl" "$@"
    fi
    say "next: ${run} setup --collector-account <the collector's 12-digit account ID>"
}

main "$@"
