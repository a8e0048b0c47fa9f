// What a request carries when its project captures payloads: set by the
// core services after admission (never for projects that do not capture, so
// the cost is one property read), read by the payload store when the
// request closes (payload-store.ts), off the client's path.

export interface PayloadCapture {
  /** The body exactly as the door received it (any door's wire shape). */
  request: unknown;
  /** What was answered, read once when the request closes: a completion, a stream's assembled text; unset for embeddings (inputs only). */
  response?: () => unknown;
  /** The project's patterns, applied before anything is stored. */
  redactPatterns: readonly string[];
}

/** The capture to attach to a request of this project, or undefined when it does not capture. */
export function startCapture(project: { capture?: { redactPatterns: readonly string[] } }, body: unknown): PayloadCapture | undefined {
  return project.capture ? { request: body, redactPatterns: project.capture.redactPatterns } : undefined;
}
