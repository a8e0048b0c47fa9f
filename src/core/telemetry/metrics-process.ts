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
  }
  return registry;
}
