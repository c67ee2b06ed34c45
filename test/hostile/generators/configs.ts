import type { HostileCase } from '../corpus';

/** Hostile configs for test/hostile (see test/fixtures/hostile/README.md). */
export const cases: HostileCase[] = [];
