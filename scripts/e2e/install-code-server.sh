#!/usr/bin/env bash
# Installs the pinned code-server (scripts/e2e/code-server-package/) into .e2e/code-server/ inside the repository.
# Idempotent: skips the ~2 minute install when the folder holds an install made from the same package.json, lockfile
# and Node major version. Nothing is cached outside the repository except npm's own download cache.
#
# Why the environment below:
# - code-server's postinstall runs `npm install` in lib/vscode, which builds native modules (kerberos needs Debian's
#   libkrb5-dev) and refuses to run as root unless npm_config_unsafe_perm=true;
# - @vscode/ripgrep (bundled by VS Code) downloads `rg` from GitHub at install time, which this network cannot reach:
#   it first looks in $TMPDIR/vscode-ripgrep-cache-<version>/, so we seed that cache with Debian's ripgrep binary;
# - npm_config_yes=true answers npm's prompts in the nested installs.
set -euo pipefail

repo_root="$(cd "$(dirname "$0")/../.." && pwd)"
package_dir="$repo_root/scripts/e2e/code-server-package"
install_dir="${GENREP_E2E_CODE_SERVER_DIR:-$repo_root/.e2e/code-server}"
stamp_file="$install_dir/.genrep-install-stamp"
code_server_bin="$install_dir/node_modules/.bin/code-server"

ripgrep_package_version="1.15.11"
ripgrep_release="v13.0.0-10"

node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" != "20" ]; then
  echo "install-code-server: code-server 4.100.3 needs Node 20; this is Node $(node -v)" >&2
  exit 1
fi

wanted_stamp="$(cat "$package_dir/package.json" "$package_dir/package-lock.json" | sha256sum | cut -d' ' -f1) node$node_major"
if [ -x "$code_server_bin" ] && [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$wanted_stamp" ]; then
  echo "install-code-server: up to date in ${install_dir#"$repo_root"/}"
  exit 0
fi

rg_path="$(command -v rg || true)"
if [ -z "$rg_path" ]; then
  echo "install-code-server: Debian's ripgrep is missing (run scripts/ci-apt.sh or apt-get install ripgrep)" >&2
  exit 1
fi
case "$(uname -m)" in
  x86_64) rg_target="x86_64-unknown-linux-musl" ;;
  aarch64) rg_target="aarch64-unknown-linux-musl" ;;
  *) echo "install-code-server: no ripgrep cache name known for $(uname -m)" >&2; exit 1 ;;
esac

echo "install-code-server: installing code-server into ${install_dir#"$repo_root"/} (about 2 minutes)"
started=$SECONDS
rm -rf "$install_dir"
mkdir -p "$install_dir"
install_tmp="$install_dir/tmp"
rg_cache_dir="$install_tmp/vscode-ripgrep-cache-$ripgrep_package_version"
mkdir -p "$rg_cache_dir" "$install_tmp/rg-stage"
cp "$rg_path" "$install_tmp/rg-stage/rg"
tar -czf "$rg_cache_dir/ripgrep-$ripgrep_release-$rg_target.tar.gz" -C "$install_tmp/rg-stage" rg
cp "$package_dir/package.json" "$package_dir/package-lock.json" "$install_dir/"

(
  cd "$install_dir"
  export TMPDIR="$install_tmp"
  export npm_config_yes=true
  export npm_config_unsafe_perm=true
  npm ci --no-audit --no-fund --loglevel=error
)

vscode_dir="$install_dir/node_modules/code-server/lib/vscode"
for required in "$code_server_bin" "$vscode_dir/node_modules.asar" "$vscode_dir/node_modules/@vscode/ripgrep/bin/rg"; do
  if [ ! -e "$required" ]; then
    echo "install-code-server: the install finished but $required is missing (did code-server's postinstall run?)" >&2
    exit 1
  fi
done
rm -rf "$install_tmp"
echo "$wanted_stamp" > "$stamp_file"
echo "install-code-server: done in $((SECONDS - started)) s"
