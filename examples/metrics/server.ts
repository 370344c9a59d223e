/**
 * Session metrics for Prometheus: `node --conditions=tsession-source --import tsx examples/metrics/server.ts`
 * (PORT, default 3000, the app; METRICS_PORT, default 9464, the scrape endpoint on 127.0.0.1
 * only; SESSION_SECRET as in the other examples). Point Prometheus at it:
 *
 * ```yaml
 * scrape_configs:
 *   - job_name: tsession
 *     static_configs: [{ targets: ['127.0.0.1:9464'] }]
 * ```
 *
 * The counters come out as `tsession_commits_total{tsession_outcome="ok",...}`, the store
 * latency as the histogram `tsession_store_duration` (seconds) by `tsession_operation`.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { CookieClientIdManager, SessionDataContainer, SessionManager } from 'tsession';
import { withSessions } from 'tsession/http';
import { MemoryStore } from 'tsession/memory';
import { openTelemetry } from 'tsession/telemetry';

/** Options of {@link start}. */
export interface MetricsExampleOptions {
  /** The app's port; 0 picks a free one. @default $PORT, else 3000 */
  port?: number;
  /** The scrape endpoint's port; 0 picks a free one. @default $METRICS_PORT, else 9464 */
  metricsPort?: number;
}

/** Starts the app and its scrape endpoint; `close()` stops both and the store. */
export async function start(options: MetricsExampleOptions = {}) {
  // The exporter is a metric reader that renders on request; we serve it from a server of our own
  // so the endpoint stays on loopback, apart from the app's port.
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const meterProvider = new MeterProvider({ readers: [exporter] });
  const manager = new SessionManager({
    clientIds: new CookieClientIdManager({
      secret: process.env.SESSION_SECRET ?? randomBytes(32).toString('base64url'),
    }),
    container: new SessionDataContainer({
      store: new MemoryStore(),
      telemetry: openTelemetry({ meterProvider, traces: false }),
    }),
  });
  const app = createServer(
    withSessions(manager, async (req, res) => {
      if (req.url === '/logout') {
        req.session.invalidate();
        return res.end('bye');
      }
      const visits = await req.session.get('example.visits');
      const n = ((visits.get('n') as number | undefined) ?? 0) + 1;
      visits.set('n', n);
      res.end(`visit ${n}`);
    }),
  );
  const metrics = createServer((req, res) => exporter.getMetricsRequestHandler(req, res));
  const appUrl = await listen(app, options.port ?? Number(process.env.PORT ?? 3000), '0.0.0.0');
  const metricsUrl = await listen(
    metrics,
    options.metricsPort ?? Number(process.env.METRICS_PORT ?? 9464),
    '127.0.0.1',
  );
  return {
    url: appUrl,
    metricsUrl: `${metricsUrl}/metrics`,
    async close() {
      for (const server of [app, metrics]) {
        server.closeAllConnections();
        await new Promise((done) => server.close(done));
      }
      await meterProvider.shutdown();
      await manager.close();
    },
  };
}

async function listen(server: Server, port: number, host: string): Promise<string> {
  server.listen(port, host);
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { url, metricsUrl } = await start();
  console.log(`tsession metrics example on ${url}, scrape ${metricsUrl}`);
}
