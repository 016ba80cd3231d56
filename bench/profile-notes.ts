/**
 * What the profiles showed, per row (`npx tsx bench/profile.ts <row>` reproduces them: the built
 * server under `node --cpu-prof` / `--heap-prof`, the row's workload, a self-time summary). Written
 * by hand from those runs and printed next to each row of BENCHMARKS.md; re-profile when a row's
 * figure moves.
 */
const NOTES: Record<string, string[]> = {};

export function profileNotes(id: string): string[] {
  return (NOTES[id] ?? []).map((n) => `Profile: ${n}`);
}
