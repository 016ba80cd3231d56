/** Security settings from the environment (src/config.ts). */
import { describe, expect, it } from 'vitest';
import { loadConfig, parseApiKeys } from '../../src/config.js';
import { newTestKey } from './support.js';

const K = newTestKey();

describe('API_KEYS and the listen addresses', () => {
  it('without keys: loopback HOST only, and the message names HOST and API_KEYS', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost']) expect(loadConfig({ HOST: host }).host).toBe(host);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', 'example.internal']) {
      expect(() => loadConfig({ HOST: host })).toThrow(/HOST .*API_KEYS/);
    }
  });

  it('with keys: any HOST, and SOCKET_HOST may leave loopback', () => {
    const c = loadConfig({ HOST: '0.0.0.0', SOCKET_HOST: '0.0.0.0', API_KEYS: K.entry });
    expect(c.host).toBe('0.0.0.0');
    expect(c.socketHost).toBe('0.0.0.0');
    expect(c.apiKeys).toHaveLength(1);
    expect(() => loadConfig({ SOCKET_HOST: '0.0.0.0' })).toThrow(/SOCKET_HOST .*API_KEYS/);
  });

  it('entries: sha256:<64 hex>, case and surrounding spaces ignored; duplicates and anything else refused without echo', () => {
    const other = newTestKey();
    const keys = parseApiKeys(` ${K.entry.toUpperCase().replace('SHA256', 'sha256')} , ${other.entry}`);
    expect(keys.map((k) => k.id)).toEqual([K.entry.slice(7, 23), other.entry.slice(7, 23)]);
    expect(keys[0]!.hash.toString('hex')).toBe(K.entry.slice(7));
    expect(() => parseApiKeys(`${K.entry},${K.entry}`)).toThrow(/entry 2 repeats/);
    for (const bad of [K.key, 'sha256:abc', `sha1:${'0'.repeat(40)}`, `${K.entry},`, `sha256:${'g'.repeat(64)}`]) {
      let message = '';
      try {
        parseApiKeys(bad);
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message, bad).toMatch(/API_KEYS entry \d+ is not/);
      expect(message).not.toContain(K.key);
    }
    expect(parseApiKeys('')).toEqual([]);
    expect(parseApiKeys(undefined)).toEqual([]);
  });

  it('defaults of the limits', () => {
    const c = loadConfig({});
    expect(c.apiKeys).toEqual([]);
    expect(c.metricsOpen).toBe(false);
    expect(c.maxSessionsPerKey).toBe(100);
    expect(c.rateLimitMax).toBe(6000);
    expect(c.rateLimitWindowMs).toBe(60_000);
    expect(c.shedEventLoopDelayMs).toBe(1000);
    expect(c.shedHeapUsedBytes).toBe(0);
    expect(c.shedRssBytes).toBe(0);
    expect(c.shedRetryAfterSeconds).toBe(10);
    expect(c.shutdownGraceMs).toBe(30_000);
    expect(loadConfig({ METRICS_OPEN: 'true' }).metricsOpen).toBe(true);
    expect(() => loadConfig({ METRICS_OPEN: 'yes' })).toThrow(/METRICS_OPEN/);
  });
});
