import type { HostileCase } from '../corpus';

/** Hostile audio for test/hostile (see test/fixtures/hostile/README.md). */
export const cases: HostileCase[] = [];
