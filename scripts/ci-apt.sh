#!/usr/bin/env bash
# Debian packages that CI and a developer machine need beyond Node 20 and the build tools a new machine has:
# - chromium: the browser the end-to-end test drives through playwright-core (it never downloads one of its own);
# - fonts-liberation: so that the workbench's screenshots show text on a machine with no other fonts;
# - libkrb5-dev: code-server's postinstall builds VS Code's `kerberos` native module against it;
# - ripgrep: seeded into @vscode/ripgrep's download cache, since its install step cannot reach GitHub.
# Idempotent and quick when everything is there: it asks dpkg first and touches apt only for what is missing.
set -euo pipefail

packages=(chromium fonts-liberation libkrb5-dev ripgrep)

missing=()
for package in "${packages[@]}"; do
  if [ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)" != "install ok installed" ]; then
    missing+=("$package")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "ci-apt: ${packages[*]} already installed"
  exit 0
fi

sudo_cmd=()
if [ "$(id -u)" != "0" ]; then
  sudo_cmd=(sudo)
fi

echo "ci-apt: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
