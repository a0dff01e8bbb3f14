import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { metricsText } from '../../lib/metrics-text';
import { observeRequestEnd, registry as podiumRegistry, requestsSubmitted } from '../../lib/metrics';

describe("the metrics' text", () => {
  it("is prom-client's own, byte for byte, for every kind of series", async () => {
    const registry = new Registry();
    // Written by prom-client, as the default process metrics are: it collects at the scrape.
    new Gauge({
      name: 'collected',
      help: 'set at the scrape',
      labelNames: ['space'],
      registers: [registry],
      collect() {
        this.set({ space: 'new' }, 7);
      },
    });
    const counter = new Counter({
      name: 'c_total',
      help: 'a counter\nwith "quotes" and a \\',
      labelNames: ['model', 'status'],
      registers: [registry],
    });
    const bare = new Counter({ name: 'bare_total', help: 'no labels', registers: [registry] });
    const gauge = new Gauge({ name: 'g', help: 'a gauge', labelNames: ['model'], registers: [registry] });
    const histogram = new Histogram({
      name: 'h_seconds',
      help: 'a histogram',
      labelNames: ['model'],
      buckets: [0.1, 1, 10],
      registers: [registry],
    });
    const plain = new Histogram({ name: 'plain_seconds', help: 'no labels', buckets: [0.5], registers: [registry] });
    new Gauge({
      name: 'never_set',
      help: 'a gauge with labels and no series',
      labelNames: ['x'],
      registers: [registry],
    });
    for (const model of ['echo', 'a "quoted" \\ model\nwith a newline']) {
      counter.inc({ model, status: 'COMPLETE' }, 3);
      gauge.set({ model }, -2.5);
      histogram.observe({ model }, 0.05);
      histogram.observe({ model }, 5);
      histogram.observe({ model }, 50);
    }
    gauge.set({ model: 'odd' }, Number.NaN);
    gauge.set({ model: 'up' }, Number.POSITIVE_INFINITY);
    gauge.set({ model: 'down' }, Number.NEGATIVE_INFINITY);
    bare.inc();
    plain.observe(0.2);
    expect((await metricsText(registry)).toString()).toBe(await registry.metrics());
  });

  it("is prom-client's own for Podium's registry, and stays so as series come and go", async () => {
    requestsSubmitted.inc({ model: 'echo' });
    observeRequestEnd('echo', 'COMPLETE', { queueWaitSeconds: 0.01, processingSeconds: 0.02, totalSeconds: 0.03 });
    await podiumRegistry.metrics();
    const withoutDefaults = (text: string) =>
      text
        .split('\n\n')
        .filter((block) => block.includes('# HELP podium_'))
        .join('\n\n');
    expect(withoutDefaults((await metricsText(podiumRegistry)).toString())).toBe(
      withoutDefaults(await podiumRegistry.metrics()),
    );
    requestsSubmitted.reset();
    observeRequestEnd('shout', 'FAILED', { queueWaitSeconds: 1, processingSeconds: null, totalSeconds: 1 });
    expect(withoutDefaults((await metricsText(podiumRegistry)).toString())).toBe(
      withoutDefaults(await podiumRegistry.metrics()),
    );
  });
});
