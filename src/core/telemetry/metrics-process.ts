import { collectDefaultMetrics, Registry } from 'prom-client';

let registry: Registry | undefined;

/**
 * prom-client's default metrics (CPU, memory, heap spaces, GC, event-loop
 * lag, handles) in one registry per process: they describe the process,
 * and each collector installs process-wide hooks (a GC observer, an
 * event-loop delay monitor) that a second gateway in the same process
 * (tests, a replica pair) must not install again.
 */
export function processMetrics(): Registry {
  if (!registry) {
    registry = new Registry();
    collectDefaultMetrics({ register: registry });
    // Gauges named like counters, which promtool rightly flags; each is the sum of its per-type gauge.
    for (const name of ['nodejs_active_resources_total', 'nodejs_active_handles_total', 'nodejs_active_requests_total']) registry.removeSingleMetric(name);
  }
  return registry;
}
