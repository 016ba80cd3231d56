/**
 * Prometheus metrics (prom-client), one registry per app instance (tests build many apps in one
 * process). GET /metrics serves `registry.metrics()`.
 *
 * Series:
 *   tpm_measure_http_requests_total{method,route,status}        requests answered
 *   tpm_measure_http_request_duration_seconds{method,route}     latency histogram
 *   tpm_measure_sessions_open                                   sessions alive
 *   tpm_measure_session_queue_depth                             requests queued or running on sessions
 *   tpm_measure_measured_bytes_total{kind}                      bytes measured (measurement, drtm, launch)
 *   tpm_measure_tpm_commands_total{family,rc}                   TPM commands run by the engines, by return code
 *   tpm_measure_store_commit_duration_seconds                   durable store commit latency (observeStoreCommit)
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { FastifyInstance } from 'fastify';
import type { TpmFamily } from '../tpm/engine.js';
import type { SessionObserver } from '../sessions/session.js';

export interface MetricsSources {
  /** Sessions alive and requests queued or running on them, read at scrape time. */
  sessions(): Promise<{ open: number; queued: number }>;
}

export type MeasuredKind = 'measurement' | 'drtm' | 'launch';

export class Metrics implements SessionObserver {
  readonly registry = new Registry();
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly latency: Histogram<'method' | 'route'>;
  private readonly measured: Counter<'kind'>;
  private readonly commands: Counter<'family' | 'rc'>;
  /** Commit latency of the durable session store, in seconds; the store reports through observeStoreCommit. */
  readonly storeCommitSeconds: Histogram;
  private readonly commandChildren = new Map<string, { inc(): void }>();

  constructor(sources: MetricsSources, opts: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.requests = new Counter({ name: 'tpm_measure_http_requests_total', help: 'HTTP requests answered, by method, route template and status', labelNames: ['method', 'route', 'status'], registers });
    this.latency = new Histogram({
      name: 'tpm_measure_http_request_duration_seconds',
      help: 'HTTP request duration from arrival to the response, by method and route template',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120],
      registers,
    });
    new Gauge({ name: 'tpm_measure_sessions_open', help: 'Sessions alive', registers, async collect() { this.set((await sources.sessions()).open); } });
    new Gauge({ name: 'tpm_measure_session_queue_depth', help: 'Requests queued or running on sessions (all sessions together)', registers, async collect() { this.set((await sources.sessions()).queued); } });
    this.measured = new Counter({ name: 'tpm_measure_measured_bytes_total', help: 'Bytes measured into sessions, by kind (measurement, drtm, launch)', labelNames: ['kind'], registers });
    this.commands = new Counter({ name: 'tpm_measure_tpm_commands_total', help: 'TPM commands executed by the session engines (HTTP, socket, TIS FIFO, measurements), by family and return code', labelNames: ['family', 'rc'], registers });
    this.storeCommitSeconds = new Histogram({
      name: 'tpm_measure_store_commit_duration_seconds',
      help: 'Duration of a durable session-store commit',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'tpm_measure_' });
  }

  /** SessionObserver: one TPM command ran. Cheap: one cached labelled child per (family, rc). */
  command(family: TpmFamily, rc: number): void {
    const key = `${family}:${rc}`;
    let child = this.commandChildren.get(key);
    if (!child) {
      child = this.commands.labels(family, rc < 0 ? 'none' : `0x${rc.toString(16)}`);
      this.commandChildren.set(key, child);
    }
    child.inc();
  }

  measuredBytes(kind: MeasuredKind, bytes: number): void {
    if (bytes > 0) this.measured.inc({ kind }, bytes);
  }

  /** For the durable store: one commit took `seconds`. */
  observeStoreCommit(seconds: number): void {
    this.storeCommitSeconds.observe(seconds);
  }

  /** Count every answered request by its route template (never the raw URL: bounded label values). */
  install(app: FastifyInstance): void {
    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? 'unmatched';
      const method = request.method;
      this.requests.inc({ method, route, status: String(reply.statusCode) });
      this.latency.observe({ method, route }, reply.elapsedTime / 1000);
    });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
