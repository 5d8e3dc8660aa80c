#!/usr/bin/env bash
# Builds the release binary: one static Linux executable (x86_64-unknown-linux-musl, the `dist`
# profile of Cargo.toml), checks that it is static and runs, and copies it with its SHA-256 to
# dist/:
#
#   scripts/release.sh            -> dist/orgctl-<version>-x86_64-unknown-linux-musl(.sha256)
#
# Needs the Rust target (`rustup target add x86_64-unknown-linux-musl`; added here if rustup
# can) and a musl C compiler for the C parts of the TLS stack (aws-lc-sys): `musl-gcc` from
# Debian/Ubuntu's musl-tools (`apt-get install musl-tools`). CARGO_TARGET_DIR is honoured.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=x86_64-unknown-linux-musl
PROFILE=dist
die() { echo "release.sh: $*" >&2; exit 1; }

if ! rustup target list --installed 2>/dev/null | grep -qx "$TARGET"; then
  rustup target add "$TARGET" || die "the Rust target $TARGET is missing: rustup target add $TARGET"
fi
command -v musl-gcc >/dev/null || die "musl-gcc is missing (the C parts of aws-lc-sys need it): apt-get install musl-tools"
export CC_x86_64_unknown_linux_musl="${CC_x86_64_unknown_linux_musl:-musl-gcc}"

cargo build --locked --profile "$PROFILE" --target "$TARGET" --bin orgctl

bin="${CARGO_TARGET_DIR:-target}/$TARGET/$PROFILE/orgctl"
[ -x "$bin" ] || die "no binary at $bin"
kind="$(file -b "$bin")"
case "$kind" in
  *"statically linked"* | *"static-pie linked"*) ;;
  *) die "$bin is not static: $kind" ;;
esac
version="$("$bin" --version | awk '{print $2}')"
[ -n "$version" ] || die "$bin --version printed no version"

mkdir -p dist
out="dist/orgctl-$version-$TARGET"
cp "$bin" "$out"
(cd dist && sha256sum "$(basename "$out")" >"$(basename "$out").sha256")
echo "$out: $(du -h "$out" | cut -f1), $kind" >&2
echo "$out"
