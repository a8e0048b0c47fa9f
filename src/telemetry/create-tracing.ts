import type { Tracing } from '../core/telemetry/tracing.js';
import { type TracingSettings, tracingSettings } from './tracing-settings.js';

export { type TracingSettings, tracingSettings } from './tracing-settings.js';

/**
 * The gateway's tracing from the environment, or undefined when the
 * environment leaves it off. The SDK (exporter, protobuf encoder, span
 * processor) is imported only when it is on: a gateway without traces
 * does not carry it in memory.
 */
export async function createTracing(env: Record<string, string | undefined>): Promise<{ tracing: Tracing; settings: TracingSettings } | undefined> {
  const settings = tracingSettings(env);
  if (!settings) return undefined;
  const { tracingFor } = await import('./tracing-sdk.js');
  return { tracing: tracingFor(settings), settings };
}
