#!/usr/bin/env bash
# Prepares the end-to-end test: installs code-server (skipped when already installed from the same lockfile),
# packages the extension for this platform and installs the .vsix into a fresh .e2e/extensions/.
# Run by `npm run test:e2e` (and by hand as `npm run e2e:setup`).
set -euo pipefail

repo_root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$repo_root"

bash scripts/e2e/install-code-server.sh

platform="$(node -p 'process.platform + "-" + process.arch')"
vsix="$repo_root/.e2e/genrep-$platform.vsix"
bash scripts/e2e/package-vsix.sh --target "$platform" --out "$vsix"

started=$SECONDS
extensions_dir="$repo_root/.e2e/extensions"
install_profile="$repo_root/.e2e/install-profile"
rm -rf "$extensions_dir" "$install_profile"
mkdir -p "$extensions_dir" "$install_profile"
# code-server would otherwise create ~/.config/code-server/config.yaml and ~/.local/share/code-server.
printf 'auth: none\ncert: false\n' > "$install_profile/config.yaml"
XDG_CONFIG_HOME="$install_profile/xdg-config" XDG_DATA_HOME="$install_profile/xdg-data" XDG_CACHE_HOME="$install_profile/xdg-cache" \
  .e2e/code-server/node_modules/.bin/code-server \
  --config "$install_profile/config.yaml" \
  --user-data-dir "$install_profile/user-data" \
  --extensions-dir "$extensions_dir" \
  --install-extension "$vsix"
rm -rf "$install_profile"
echo "e2e setup: extension installed into .e2e/extensions in $((SECONDS - started)) s"
