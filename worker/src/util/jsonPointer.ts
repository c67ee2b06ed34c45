/**
 * A JSON pointer (RFC 6901: `/mixup/K_s`, `~1` for '/', `~0` for '~') as the path jsonc-parser's findNodeAtLocation
 * and modify take: decimal segments become array indices. One parser for the config loader and the editor-facing
 * diagnostics (worker/src/server/jsonLocations.ts).
 */
export function pointerSegments(pointer: string): (string | number)[] {
  if (pointer === '' || pointer === '/') return [];
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}
