/**
 * SIGKILL crash test on the postgres store (test/support/crash-scenario.ts says what is checked):
 * a real child-process server under concurrent load, killed at random moments, restarted on the same store.
 */
import { afterAll, expect, it } from 'vitest';
import { crashScenario } from '../support/crash-scenario.js';
import { postgresStore } from '../support/stores.js';
import { describeWithPostgres } from '../support/stores.js';

const KILLS = Number(process.env.CRASH_KILLS ?? 20);
const store = postgresStore();
afterAll(() => store.cleanup());

describeWithPostgres('crash: SIGKILL under load, postgres store', () => {
  it(`every acknowledged change survives ${KILLS} kills; nothing half-applied; logs replay to PCRs; an open SHA-1 thread survives`, async () => {
    const figures = await crashScenario(store.env, KILLS, () => undefined);
    console.log(`crash (postgres): ${JSON.stringify(figures)}`);
    expect(figures.kills).toBe(KILLS);
    expect(figures.threadsChecked).toBe(KILLS);
    expect(figures.measurementsChecked).toBeGreaterThan(0);
  }, 240_000);
});
