/** `workers: auto` on a given number of CPUs (the choice is explained in src/app/cluster.ts). */
import { resolveWorkers } from '../../../src/app/cluster.js';

describe('resolveWorkers', () => {
  test.each<[number | 'auto', number, number]>([
    ['auto', 1, 1],
    // One process (no cluster primary) on a 2-CPU box: one CPU stays for the MTA and Redis.
    ['auto', 2, 1],
    ['auto', 4, 3],
    ['auto', 16, 15],
    // A number is taken as given.
    [2, 2, 2],
    [8, 2, 8],
  ])('workers: %s on %i CPUs → %i', (w, cpus, want) => {
    expect(resolveWorkers(w, cpus)).toBe(want);
  });
});
