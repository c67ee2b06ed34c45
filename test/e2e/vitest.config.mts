import { defineConfig } from 'vitest/config';

// The end-to-end suite: a real VS Code (code-server) in Debian's chromium. Run by `npm run test:e2e`, which first
// runs scripts/e2e/setup.sh. Its files end in .e2e.ts so that the unit run (test/**/*.test.ts) never picks them up.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.ts'],
    testTimeout: 300_000,
    hookTimeout: 180_000,
    pool: 'forks',
    fileParallelism: false,
    // One browser and one code-server per file: retrying would double a multi-minute run for a real failure.
    retry: 0,
  },
});
