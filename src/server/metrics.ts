/**
 * Prometheus metrics (prom-client) for one server instance, in a registry of its own (never the
 * process-global one: two servers in one process, as in the tests, do not share counters):
 * requests and their latency per route pattern (never the concrete URL: no patient ids in labels),
 * $apply latency, and CDS cards issued per service and indicator. Served at /metrics.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class ServerMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly latency: Histogram<'method' | 'route'>;
  private readonly applyLatency: Histogram<'operation'>;
  private readonly cards: Counter<'service' | 'indicator'>;

  constructor() {
    const registers = [this.registry];
    this.requests = new Counter({ name: 'http_requests_total', help: 'HTTP requests answered, by route pattern and status', labelNames: ['method', 'route', 'status'], registers });
    this.latency = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request latency by route pattern, seconds',
      labelNames: ['method', 'route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.applyLatency = new Histogram({
      name: 'apply_duration_seconds',
      help: '$apply latency (HTTP $apply and the apply inside CDS hook calls), seconds',
      labelNames: ['operation'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.cards = new Counter({ name: 'cds_cards_issued_total', help: 'CDS Hooks cards returned, by service and indicator', labelNames: ['service', 'indicator'], registers });
    collectDefaultMetrics({ register: this.registry });
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.requests.inc({ method, route, status: String(status) });
    this.latency.observe({ method, route }, seconds);
  }

  observeApply(operation: string, seconds: number): void {
    this.applyLatency.observe({ operation }, seconds);
  }

  countCards(service: string, cards: readonly { indicator: string }[]): void {
    for (const card of cards) this.cards.inc({ service, indicator: card.indicator });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
