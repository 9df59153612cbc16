#!/bin/sh
# Installs the opencode-orchestrator executable for this machine from a release: a URL or a
# local folder holding the files `npm run release` builds (one executable per platform plus
# SHA256SUMS). The download is checked against SHA256SUMS before anything is installed.
#
#   sh install.sh [--prefix DIR] [--baseline] RELEASE
#
# Exit codes: 0 installed, 1 failed (nothing installed), 2 bad arguments.
set -eu

NAME=opencode-orchestrator
SUMS=SHA256SUMS

usage() {
  cat <<EOF
usage: sh install.sh [--prefix DIR] [--baseline] RELEASE

RELEASE   where the release files are: an https:// URL or a local folder
--prefix  install into DIR/bin (default: \$HOME/.local, so \$HOME/.local/bin)
--baseline  on Linux x64, take the build for CPUs without AVX2 even if this one has it
EOF
}

die() {
  printf 'install: %s\n' "$1" >&2
  exit "${2:-1}"
}

prefix="${HOME:?HOME is not set}/.local"
baseline=no
release=
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix)
      [ $# -ge 2 ] || die "--prefix needs a folder" 2
      prefix=$2
      shift 2
      ;;
    --prefix=*)
      prefix=${1#--prefix=}
      shift
      ;;
    --baseline)
      baseline=yes
      shift
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    -*)
      usage >&2
      die "unknown option $1" 2
      ;;
    *)
      [ -z "$release" ] || die "one release location only (got $release and $1)" 2
      release=$1
      shift
      ;;
  esac
done
if [ -z "$release" ]; then
  usage >&2
  die "missing RELEASE: the URL or folder holding $SUMS and the executables" 2
fi
[ -n "$prefix" ] || die "--prefix must not be empty" 2
case "$prefix" in
  /*) ;;
  *) prefix="$(pwd)/$prefix" ;;
esac

# ---- which executable ----------------------------------------------------------------
os=$(uname -s)
machine=$(uname -m)
case "$os" in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  *) die "no build for $os: releases exist for Linux and macOS (Windows is not supported; on other systems run it with Node: npx @opencode-orchestrator/cli)" ;;
esac
case "$machine" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) die "no build for the $machine processor: releases exist for x86-64 and arm64" ;;
esac
# A shell under Rosetta reports x86_64 on an Apple Silicon Mac; the native build is better.
if [ "$os" = darwin ] && [ "$arch" = x64 ] && [ "$(sysctl -n sysctl.proc_translated 2>/dev/null || echo 0)" = 1 ]; then
  arch=arm64
fi
if [ "$os" = linux ]; then
  # The executables link against glibc; on musl (Alpine) they cannot start.
  if ls /lib/ld-musl-* >/dev/null 2>&1; then
    die "this system uses musl libc (Alpine?), which the release builds do not support; run it with Node instead: npx @opencode-orchestrator/cli"
  fi
  if [ "$arch" = x64 ] && [ "$baseline" = no ] && ! grep -qw avx2 /proc/cpuinfo 2>/dev/null; then
    baseline=yes
  fi
fi
file="$NAME-$os-$arch"
if [ "$baseline" = yes ]; then
  [ "$os-$arch" = linux-x64 ] || die "--baseline exists for Linux x64 only" 2
  file="$file-baseline"
fi

# ---- fetch into a private scratch folder ---------------------------------------------
scratch=$(mktemp -d "${TMPDIR:-/tmp}/$NAME-install.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
trap 'exit 1' HUP INT TERM

fetch() { # fetch NAME → $scratch/NAME; fails quietly when the file is not there
  case "$release" in
    https://*)
      url="${release%/}/$1"
      if command -v curl >/dev/null 2>&1; then
        curl -fsSL --proto '=https' --proto-redir '=https' -o "$scratch/$1" "$url"
      elif command -v wget >/dev/null 2>&1; then
        wget -q --https-only -O "$scratch/$1" "$url"
      else
        die "neither curl nor wget is installed: install one, or download the release into a folder and pass that folder"
      fi
      ;;
    *)
      [ -f "$release/$1" ] && cp "$release/$1" "$scratch/$1"
      ;;
  esac
}

case "$release" in
  https://*) ;;
  http://*) die "$release is plain http: a checksum fetched that way proves nothing. Use https, or download the release into a folder and pass that folder" ;;
  *) [ -d "$release" ] || die "$release is neither a folder nor an https URL" ;;
esac
fetch "$SUMS" || die "no $SUMS in $release: refusing to install an executable that cannot be verified"
fetch "$file" || die "no $file in $release: this release has no build for $os $arch"

# ---- verify ----------------------------------------------------------------------------
expected=$(awk -v f="$file" '$2 == f || $2 == "*" f { print $1; exit }' "$scratch/$SUMS")
[ -n "$expected" ] || die "$SUMS in $release lists no checksum for $file: refusing to install it"
if command -v sha256sum >/dev/null 2>&1; then
  actual=$(sha256sum "$scratch/$file" | awk '{ print $1 }')
elif command -v shasum >/dev/null 2>&1; then
  actual=$(shasum -a 256 "$scratch/$file" | awk '{ print $1 }')
else
  die "neither sha256sum nor shasum is installed, so the download cannot be verified"
fi
if [ "$actual" != "$expected" ]; then
  die "checksum mismatch for $file: $SUMS says $expected, the file has $actual. The file is corrupted or was tampered with; nothing was installed."
fi
chmod 755 "$scratch/$file"
version=$("$scratch/$file" --version 2>&1) || die "$file does not run on this machine: $version"

# ---- install ---------------------------------------------------------------------------
bindir="$prefix/bin"
mkdir -p "$bindir" || die "cannot create $bindir"
# Copy next to the target, then rename: a running orchestrator keeps its old file, and an
# interrupted install never leaves half an executable under the real name.
cp "$scratch/$file" "$bindir/.$NAME.new" || die "cannot write into $bindir"
mv -f "$bindir/.$NAME.new" "$bindir/$NAME" || die "cannot replace $bindir/$NAME"

echo "Installed $NAME $version ($file, checksum verified) into $bindir/$NAME"
case ":${PATH:-}:" in
  *":$bindir:"*) ;;
  *)
    echo
    echo "$bindir is not on your PATH. Add this line to ~/.profile (or ~/.bashrc, ~/.zshrc) and open a new shell:"
    echo "  export PATH=\"$bindir:\$PATH\""
    ;;
esac
echo
echo "Next:"
printf '  %s %-18s %s\n' "$NAME" "up" "in a project folder: a worker for it, the backend and the web page" \
  "$NAME" "--help" "what it can do" \
  "$NAME" "orchestrate" "run the workers of workers.json (writes a template first)" \
  "$NAME" "service install" "run orchestrate as a user service (systemd or launchd)"
