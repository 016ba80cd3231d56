import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { overBudget } from '../../src/http/json.js';

/** Members + elements separators and depth, counted on the parsed value (the reference). */
function reference(v: unknown, depth = 1): { members: number; depth: number } {
  if (Array.isArray(v)) {
    const kids = v.map((x) => reference(x, depth + 1));
    return { members: Math.max(0, v.length - 1) + kids.reduce((a, k) => a + k.members, 0), depth: Math.max(depth, ...kids.map((k) => k.depth)) };
  }
  if (typeof v === 'object' && v !== null) {
    const entries = Object.entries(v);
    const kids = entries.map(([, x]) => reference(x, depth + 1));
    return { members: entries.length + Math.max(0, entries.length - 1) + kids.reduce((a, k) => a + k.members, 0), depth: Math.max(depth, ...kids.map((k) => k.depth)) };
  }
  return { members: 0, depth: depth - 1 };
}

describe('JSON budget scan', () => {
  it('counts exactly the members/elements and depth of any JSON text, strings with quotes, backslashes, commas and colons included', () => {
    fc.assert(
      fc.property(fc.json({ maxDepth: 6 }), (text) => {
        const r = reference(JSON.parse(text));
        expect(overBudget(text, r.members, Math.max(r.depth, 1))).toBeUndefined();
        if (r.members > 0) expect(overBudget(text, r.members - 1, 64)).toMatch(/members/);
        if (r.depth > 1) expect(overBudget(text, 1_000_000, r.depth - 1)).toMatch(/deeper/);
      }),
      { numRuns: 500 },
    );
  });

  it('string content never counts: "a\\\\",":" style escapes', () => {
    expect(overBudget('["a\\\\", ":,:,{[", "\\"x,y\\""]', 2)).toBeUndefined();
    expect(overBudget('["a\\\\", ":,:,{[", "\\"x,y\\""]', 1)).toMatch(/members/);
  });
});
