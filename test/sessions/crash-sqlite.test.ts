/**
 * SIGKILL crash test on the sqlite store (test/support/crash-scenario.ts says what is checked):
 * a real child-process server under concurrent load, killed at random moments, restarted on the same store.
 */
import { afterAll, expect, it } from 'vitest';
import { crashScenario } from '../support/crash-scenario.js';
import { sqliteStore } from '../support/stores.js';
import { describe } from 'vitest';

const KILLS = Number(process.env.CRASH_KILLS ?? 20);
const store = sqliteStore();
afterAll(() => store.cleanup());

describe('crash: SIGKILL under load, sqlite store', () => {
  it(`every acknowledged change survives ${KILLS} kills; nothing half-applied; logs replay to PCRs; an open SHA-1 thread survives`, async () => {
    const figures = await crashScenario(store.env, KILLS, () => undefined);
    console.log(`crash (sqlite): ${JSON.stringify(figures)}`);
    expect(figures.kills).toBe(KILLS);
    expect(figures.threadsChecked).toBe(KILLS);
    expect(figures.measurementsChecked).toBeGreaterThan(0);
  }, 240_000);
});
