/**
 * A stand-in for outdial's admin HTTP server, for the bench's self-check of the event-loop probe
 * (bench/self-check.ts): GET /healthz, GET /metrics (prom-client's default metrics with outdial's
 * `outdial_` prefix, so outdial_nodejs_eventloop_lag_max_seconds is there), and with `histogram`
 * also the metric outdial is to expose (lib/event-loop-probe.ts states the contract): one
 * observation per 2 ms timer tick, of how late it ran. POST /block?ms=N busy-loops N ms.
 *
 *   node --import tsx bench/lib/probe-target.ts [histogram]   → prints "listening <port>"
 */
import http from 'node:http';
import { Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'outdial_' });
if (process.argv.includes('histogram')) {
  const h = new Histogram({
    name: 'outdial_event_loop_delay_seconds',
    help: 'how late the event loop ran a 2 ms timer',
    buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const resolutionMs = 2;
  let expected = performance.now() + resolutionMs;
  setInterval(() => {
    const now = performance.now();
    h.observe(Math.max(0, now - expected) / 1000);
    expected = now + resolutionMs;
  }, resolutionMs).unref();
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname === '/healthz') {
    res.end('{"status":"ok"}');
  } else if (url.pathname === '/metrics') {
    void registry.metrics().then((text) => {
      res.setHeader('content-type', registry.contentType);
      res.end(text);
    });
  } else if (url.pathname === '/block' && req.method === 'POST') {
    const ms = Number(url.searchParams.get('ms') ?? '0');
    res.end('blocking');
    // after the answer is out: the loop stalls as a synchronous database call would stall it
    setTimeout(() => {
      const until = performance.now() + ms;
      while (performance.now() < until);
    }, 5);
  } else {
    res.statusCode = 404;
    res.end();
  }
});
server.listen(0, '127.0.0.1', () => {
  const a = server.address();
  process.stdout.write(`listening ${typeof a === 'object' && a ? a.port : 0}\n`);
});
