#!/usr/bin/env bash
# Packages the extension as a .vsix with its runtime dependencies, offline.
#
#   scripts/e2e/package-vsix.sh [--target linux-x64] [--out FILE]
#
# `vsce package` (with dependencies: the extension loads onnxruntime-node, hnswlib-node, vscode-languageclient, ajv, …
# at run time) takes node_modules' production tree as installed by `npm ci`, so native modules are the ones built
# here and nothing is downloaded. .vscodeignore keeps sources, tests and dev files out.
# With --target, the package is platform-specific and onnxruntime-node's binaries for every other platform are left
# out (about 45 MB instead of about 290 MB unpacked); without it, a universal package carries all of them.
set -euo pipefail

repo_root="$(cd "$(dirname "$0")/../.." && pwd)"
target=""
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --target) target="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "package-vsix: unknown argument $1 (use --target <platform-arch> and --out <file.vsix>)" >&2; exit 2 ;;
  esac
done
cd "$repo_root"
mkdir -p .e2e
if [ -z "$out" ]; then
  out="$repo_root/.e2e/genrep${target:+-$target}.vsix"
fi

started=$SECONDS
# GENREP_SKIP_BUILD=1: the caller has just run `npm run build` (as `npm test` does before the end-to-end test).
if [ "${GENREP_SKIP_BUILD:-}" != "1" ]; then
  npm run build --silent
fi

ignore_file="$repo_root/.vscodeignore"
target_args=()
if [ -n "$target" ]; then
  target_os="${target%-*}"
  target_arch="${target##*-}"
  ignore_file="$repo_root/.e2e/vscodeignore-$target"
  cp "$repo_root/.vscodeignore" "$ignore_file"
  {
    echo ""
    echo "# Added by scripts/e2e/package-vsix.sh for --target $target: other platforms' onnxruntime binaries."
    for platform_dir in node_modules/onnxruntime-node/bin/napi-v*/*/*/; do
      [ -d "$platform_dir" ] || continue
      relative="${platform_dir%/}"
      arch="${relative##*/}"
      os_part="${relative%/*}"
      os="${os_part##*/}"
      if [ "$os" != "$target_os" ] || [ "$arch" != "$target_arch" ]; then
        echo "$relative/**"
      fi
    done
  } >> "$ignore_file"
  target_args=(--target "$target")
fi

# --skip-license: the licence is the package.json "license" field (MIT); no prompt can be answered in CI.
npx --no-install vsce package \
  --out "$out" \
  --ignoreFile "$ignore_file" \
  --skip-license \
  --allow-missing-repository \
  "${target_args[@]}"

size_kb=$(du -k "$out" | cut -f1)
echo "package-vsix: $out (${size_kb} KiB) in $((SECONDS - started)) s"
