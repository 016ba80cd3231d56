/**
 * The environment the service is started with is the same everywhere it is started: `npm start`
 * (package.json, from config.glibcTunables), the Docker image (ENV), and the bench (bench/lib/server.ts
 * startEnv). glibc reads GLIBC_TUNABLES only when the process starts, so it cannot be set from inside.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startEnv } from '../../bench/lib/server.js';

const root = new URL('../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { scripts: Record<string, string>; config: { glibcTunables: string } };

describe('start environment', () => {
  it('npm start, the Dockerfile and the bench give the server the same GLIBC_TUNABLES', () => {
    const tunables = pkg.config.glibcTunables;
    expect(tunables).toMatch(/^glibc\.malloc\.trim_threshold=\d+:glibc\.malloc\.top_pad=\d+$/);
    expect(pkg.scripts.start).toContain('GLIBC_TUNABLES=$npm_package_config_glibcTunables node dist/src/server.js');
    const docker = readFileSync(new URL('Dockerfile', root), 'utf8');
    expect(docker).toContain(`ENV GLIBC_TUNABLES=${tunables}\n`);
    expect(startEnv()).toEqual({ GLIBC_TUNABLES: tunables });
  });

  it('npm passes config.glibcTunables to the scripts it runs (what the start script expands)', () => {
    // The same expansion as the start script, run by npm (npm_package_config_* is npm's doing).
    const r = spawnSync('npm', ['exec', '--', 'node', '-e', 'process.stdout.write(process.env.npm_package_config_glibcTunables ?? "")'], { cwd: new URL('.', root), encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(pkg.config.glibcTunables);
  });
});
