#!/usr/bin/env bash
# Installs the Debian packages alertbridge needs to build, test and benchmark.
# Idempotent: it asks apt only when something is missing.
set -euo pipefail

packages=(
    build-essential cmake pkg-config
    libboost-dev rapidjson-dev libyaml-cpp-dev prometheus-cpp-dev libre2-dev
    libhowardhinnant-date-dev libsqlite3-dev libssl-dev libspdlog-dev libfmt-dev libcli11-dev
    libgtest-dev tzdata libgmime-3.0-dev libkainjow-mustache-dev libcurl4-openssl-dev libcsv-dev
    libjemalloc-dev libzstd-dev zstd libxml2-dev libuchardet-dev
    python3 python3-icalendar python3-yaml curl sqlite3 openssl e2fsprogs
    prometheus-alertmanager swaks dovecot-imapd wrk clang-format clang-tidy clang libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

echo "Installing missing packages: ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
# The Debian package starts an Alertmanager service where systemd runs; the tests start
# their own on loopback, so a system one is left alone but never relied upon.
