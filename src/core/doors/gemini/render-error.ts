import type { GatewayError } from '../../errors.js';

// Google's error body, `{ error: { code, message, status } }`, with the
// google.rpc status name for each HTTP status the gateway answers. The HTTP
// status stays the gateway's own: a refused balance is 402 with
// FAILED_PRECONDITION (Google has no "payment required"; its billing
// refusals are FAILED_PRECONDITION), so the GenAI SDK's ApiError.status
// still tells a balance refusal from a bad request.

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  402: 'FAILED_PRECONDITION',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  408: 'DEADLINE_EXCEEDED',
  413: 'INVALID_ARGUMENT',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
  508: 'ABORTED',
};

export interface GoogleErrorBody {
  error: { code: number; message: string; status: string };
}

export const googleStatusName = (status: number): string => STATUS_NAMES[status] ?? (status >= 500 ? 'INTERNAL' : 'INVALID_ARGUMENT');

export function googleErrorBody(error: GatewayError): GoogleErrorBody {
  return { error: { code: error.status, message: error.message, status: googleStatusName(error.status) } };
}

/** The Gemini door's error renderer (the shape installErrorHandlers takes). */
export const renderGoogleError = (error: GatewayError): { status: number; body: GoogleErrorBody } => ({ status: error.status, body: googleErrorBody(error) });
