/**
 * Gemini (generativelanguage v1beta) emulator:
 * `POST /v1beta/models/{model}:generateContent`, `:streamGenerateContent?alt=sse`
 * (without `alt=sse`: one JSON array), `:embedContent`, `:batchEmbedContents`,
 * `:countTokens`, `GET /v1beta/models[/{model}]`. `/v1/` and `/v1alpha/` paths work too.
 *
 * Thought parts are only sent when the request sets
 * `generationConfig.thinkingConfig.includeThoughts: true` (as the real API does);
 * `thoughtsTokenCount` is reported either way.
 *
 * Stream events (what `*AfterEvents` counts): one per thought piece, one per text
 * piece, one holding all functionCall parts; the last event also carries
 * `finishReason` and the final `usageMetadata` (an empty answer is one event).
 */
import {
  collectText,
  embeddingFor,
  type Exchange,
  resolveScript,
  splitText,
  sseData,
  startEmulator,
  type Emulator,
  type EmulatorOptions,
  type ErrorReply,
} from './fault.js';

export const DEFAULT_GEMINI_MODELS = [
  'gemini-2.5-pro',
  'gemini-2.5-flash',
  'gemini-2.5-flash-lite',
  'gemini-2.0-flash',
  'gemini-embedding-001',
  'text-embedding-004',
];

let seq = 0;
const nextId = () => `emu${(++seq).toString(36).padStart(8, '0')}`;

const STATUS_NAMES: Record<number, [string, string]> = {
  400: ['INVALID_ARGUMENT', 'Request contains an invalid argument.'],
  401: [
    'UNAUTHENTICATED',
    'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
  ],
  403: ['PERMISSION_DENIED', 'The caller does not have permission'],
  404: ['NOT_FOUND', 'Requested entity was not found.'],
  409: ['ABORTED', 'The operation was aborted.'],
  429: [
    'RESOURCE_EXHAUSTED',
    'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.',
  ],
  499: ['CANCELLED', 'The operation was cancelled.'],
  500: ['INTERNAL', 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting'],
  501: ['UNIMPLEMENTED', 'Method not found.'],
  503: ['UNAVAILABLE', 'The model is overloaded. Please try again later.'],
  504: ['DEADLINE_EXCEEDED', 'Deadline expired before operation could complete.'],
};

function geminiError(status: number, statusName: string, message: string, details: object[] = [], headers: Record<string, string> = {}): ErrorReply {
  const error: Record<string, unknown> = { code: status, message, status: statusName };
  if (details.length > 0) error.details = details;
  return { status, body: { error }, headers: { 'content-type': 'application/json; charset=UTF-8', ...headers } };
}

const bad = (message: string) => geminiError(400, 'INVALID_ARGUMENT', message);

const notFound = (model: string, method: string) =>
  geminiError(
    404,
    'NOT_FOUND',
    `models/${model} is not found for API version v1beta, or is not supported for ${method}. Call ListModels to see the list of available models and their supported methods.`,
  );

/** The error Gemini really answers for `status` (message/status name overridable). */
export function geminiStatusError(status: number, model: string, opts: { message?: string; code?: string; retryAfter?: number } = {}): ErrorReply {
  const [defName, defMessage] = STATUS_NAMES[status] ?? (status >= 500 ? ['INTERNAL', STATUS_NAMES[500]![1]] : ['FAILED_PRECONDITION', 'Precondition check failed.']);
  const details: object[] = [];
  if (status === 429)
    details.push(
      {
        '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
        violations: [
          {
            quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests',
            quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier',
            quotaDimensions: { location: 'global', model },
            quotaValue: '10',
          },
        ],
      },
      {
        '@type': 'type.googleapis.com/google.rpc.Help',
        links: [{ description: 'Learn more about Gemini API quotas', url: 'https://ai.google.dev/gemini-api/docs/rate-limits' }],
      },
    );
  if (opts.retryAfter !== undefined)
    details.push({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${opts.retryAfter}s` });
  const message =
    opts.message ??
    (status === 404 ? `models/${model} is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.` : defMessage);
  return geminiError(
    status,
    opts.code ?? defName,
    message,
    details,
    opts.retryAfter !== undefined ? { 'retry-after': String(opts.retryAfter) } : {},
  );
}

const invalidKey = () =>
  geminiError(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [
    {
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason: 'API_KEY_INVALID',
      domain: 'googleapis.com',
      metadata: { service: 'generativelanguage.googleapis.com' },
    },
    { '@type': 'type.googleapis.com/google.rpc.LocalizedMessage', locale: 'en-US', message: 'API key not valid. Please pass a valid API key.' },
  ]);

const JSON_HEADERS = { 'content-type': 'application/json; charset=UTF-8' };

const ROUTE = /^\/(v1beta|v1|v1alpha)\/models\/([^/:]+):([A-Za-z]+)$/;

function modelOf(ex: Exchange): string {
  const m = ROUTE.exec(ex.record.path);
  return m ? decodeURIComponent(m[2]!) : 'gemini-2.5-flash';
}

function validateGenerate(body: any): ErrorReply | undefined {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return bad('Invalid JSON payload received. Unknown name "": Root element must be a message.');
  if (!Array.isArray(body.contents) || body.contents.length === 0) return bad('* GenerateContentRequest.contents: contents is not specified\n');
  for (let i = 0; i < body.contents.length; i++) {
    const c = body.contents[i];
    if (c?.role !== undefined && c.role !== 'user' && c.role !== 'model') return bad('Please use a valid role: user, model.');
    if (!Array.isArray(c?.parts) || c.parts.length === 0)
      return bad(`* GenerateContentRequest.contents[${i}].parts: contents.parts must not be empty.\n`);
    const responses = c.parts.filter((p: any) => p?.functionResponse).length;
    if (responses > 0) {
      const prev = body.contents[i - 1];
      const calls = Array.isArray(prev?.parts) ? prev.parts.filter((p: any) => p?.functionCall).length : 0;
      if (calls !== responses)
        return bad(
          'Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.',
        );
    }
  }
  return undefined;
}

const FINISH = { stop: 'STOP', length: 'MAX_TOKENS', tool_calls: 'STOP' } as const;

async function generate(ex: Exchange, model: string, stream: boolean): Promise<void> {
  const body = ex.body;
  const invalid = validateGenerate(body);
  if (invalid) return ex.json(invalid.status, invalid.body, invalid.headers);
  const s = resolveScript(
    ex.script,
    'gemini',
    collectText([body.systemInstruction ?? '', body.contents]).join(''),
  );
  const includeThoughts = body.generationConfig?.thinkingConfig?.includeThoughts === true;
  const responseId = nextId();
  const usageMetadata: Record<string, unknown> = {
    promptTokenCount: s.usage.input,
    candidatesTokenCount: s.usage.output - s.usage.reasoning,
    totalTokenCount: s.usage.input + s.usage.output,
  };
  if (s.usage.cached > 0) usageMetadata.cachedContentTokenCount = s.usage.cached;
  if (s.usage.reasoning > 0) usageMetadata.thoughtsTokenCount = s.usage.reasoning;
  usageMetadata.promptTokensDetails = [{ modality: 'TEXT', tokenCount: s.usage.input }];
  if (s.usage.cached > 0) usageMetadata.cacheTokensDetails = [{ modality: 'TEXT', tokenCount: s.usage.cached }];
  const callParts = s.toolCalls.map((c) => ({ functionCall: { name: c.name, args: c.arguments } }));
  const finishReason = FINISH[s.finishReason];

  const response = (parts: object[], last: boolean) => ({
    candidates: [
      {
        content: { parts, role: 'model' },
        ...(last ? { finishReason } : {}),
        index: 0,
      },
    ],
    usageMetadata: last ? usageMetadata : { promptTokenCount: s.usage.input, totalTokenCount: s.usage.input },
    modelVersion: model,
    responseId,
  });

  if (!stream) {
    const parts: object[] = [];
    if (includeThoughts && s.reasoning) parts.push({ text: s.reasoning, thought: true });
    if (s.text) parts.push({ text: s.text });
    parts.push(...callParts);
    if (parts.length === 0) parts.push({ text: '' });
    return ex.json(200, response(parts, true), JSON_HEADERS);
  }

  const groups: object[][] = [];
  if (includeThoughts) for (const piece of splitText(s.reasoning, s.chunks)) groups.push([{ text: piece, thought: true }]);
  for (const piece of splitText(s.text, s.chunks)) groups.push([{ text: piece }]);
  if (callParts.length > 0) groups.push(callParts);
  if (groups.length === 0) groups.push([{ text: '' }]);
  const events = groups.map((parts, i) => response(parts, i === groups.length - 1));

  if (ex.record.query['alt'] !== 'sse') return ex.json(200, events, JSON_HEADERS);
  const broken = JSON.stringify(response([{ text: 'this frame is cut' }], false));
  const status = ex.fault.code ?? 'UNAVAILABLE';
  return ex.sse(events.map(sseData), {
    errorFrame: sseData({
      error: { code: 503, message: ex.fault.message ?? STATUS_NAMES[503]![1], status },
    }),
    malformedFrame: `data: ${broken.slice(0, Math.floor(broken.length / 2))}\n\n`,
  });
}

function defaultDims(model: string): number {
  return model.startsWith('gemini-embedding') ? 3072 : 768;
}

function textOfContent(content: any): string | undefined {
  if (!content || !Array.isArray(content.parts) || content.parts.length === 0) return undefined;
  return content.parts.map((p: any) => (typeof p?.text === 'string' ? p.text : '')).join('');
}

function dimsFor(model: string, requested: unknown): number | ErrorReply {
  if (requested === undefined || requested === null) return defaultDims(model);
  if (!Number.isInteger(requested) || (requested as number) < 1 || (requested as number) > defaultDims(model))
    return bad(`* EmbedContentRequest.output_dimensionality: output_dimensionality must be between 1 and ${defaultDims(model)}\n`);
  return requested as number;
}

async function embedContent(ex: Exchange, model: string): Promise<void> {
  const body = ex.body ?? {};
  const text = textOfContent(body.content);
  if (text === undefined) {
    const e = bad('* EmbedContentRequest.content: content is not specified\n');
    return ex.json(e.status, e.body, e.headers);
  }
  const dims = dimsFor(model, body.outputDimensionality);
  if (typeof dims !== 'number') return ex.json(dims.status, dims.body, dims.headers);
  return ex.json(200, { embedding: { values: embeddingFor(text, dims) } }, JSON_HEADERS);
}

async function batchEmbedContents(ex: Exchange, model: string): Promise<void> {
  const body = ex.body ?? {};
  const requests = body.requests;
  if (!Array.isArray(requests) || requests.length === 0) {
    const e = bad('* BatchEmbedContentsRequest.requests: requests is not specified\n');
    return ex.json(e.status, e.body, e.headers);
  }
  const embeddings: object[] = [];
  for (let i = 0; i < requests.length; i++) {
    const r = requests[i];
    if (r?.model !== undefined && r.model !== `models/${model}`) {
      const e = bad(
        `* BatchEmbedContentsRequest.requests[${i}].model: model must be the same as the model in the URL (models/${model}), got ${String(r.model)}\n`,
      );
      return ex.json(e.status, e.body, e.headers);
    }
    const text = textOfContent(r?.content);
    if (text === undefined) {
      const e = bad(`* BatchEmbedContentsRequest.requests[${i}].content: content is not specified\n`);
      return ex.json(e.status, e.body, e.headers);
    }
    const dims = dimsFor(model, r.outputDimensionality);
    if (typeof dims !== 'number') return ex.json(dims.status, dims.body, dims.headers);
    embeddings.push({ values: embeddingFor(text, dims) });
  }
  return ex.json(200, { embeddings }, JSON_HEADERS);
}

const modelInfo = (id: string) => ({
  name: `models/${id}`,
  version: '001',
  displayName: id,
  inputTokenLimit: 1048576,
  outputTokenLimit: 65536,
  supportedGenerationMethods: id.includes('embedding')
    ? ['embedContent', 'batchEmbedContents']
    : ['generateContent', 'countTokens', 'createCachedContent', 'batchGenerateContent'],
});

export function startGeminiEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const models = () => options.models ?? DEFAULT_GEMINI_MODELS;
  return startEmulator(
    {
      name: 'gemini',
      urlSuffix: '',
      invalidJson: () => bad('Invalid JSON payload received. Unexpected token.'),
      authenticate(ex) {
        const key = ex.record.headers['x-goog-api-key'] || ex.record.query['key'] || '';
        if (!key)
          return geminiError(
            403,
            'PERMISSION_DENIED',
            "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
          );
        if (options.validKeys && !options.validKeys.includes(key)) return invalidKey();
        return undefined;
      },
      faultError(ex, status) {
        return geminiStatusError(status, modelOf(ex), {
          message: ex.fault.message,
          code: ex.fault.code,
          retryAfter: ex.fault.retryAfter,
        });
      },
      async handle(ex) {
        const { method, path } = ex.record;
        const route = ROUTE.exec(path);
        if (method === 'POST' && route) {
          const model = decodeURIComponent(route[2]!);
          const action = route[3]!;
          const known = ['generateContent', 'streamGenerateContent', 'embedContent', 'batchEmbedContents', 'countTokens'];
          if (!known.includes(action)) {
            const e = geminiError(404, 'NOT_FOUND', `Method not found: ${action}`);
            return ex.json(e.status, e.body, e.headers);
          }
          if (options.models && !options.models.includes(model)) {
            const e = notFound(model, action === 'streamGenerateContent' ? 'generateContent' : action);
            return ex.json(e.status, e.body, e.headers);
          }
          if (action === 'generateContent') return generate(ex, model, false);
          if (action === 'streamGenerateContent') return generate(ex, model, true);
          if (action === 'embedContent') return embedContent(ex, model);
          if (action === 'batchEmbedContents') return batchEmbedContents(ex, model);
          const b = ex.body ?? {};
          const n = Math.max(1, Math.ceil(collectText([b.contents ?? [], b.generateContentRequest ?? {}]).join('').length / 4));
          return ex.json(200, { totalTokens: ex.script.usage?.input ?? n }, JSON_HEADERS);
        }
        const list = /^\/(v1beta|v1|v1alpha)\/models$/.exec(path);
        if (method === 'GET' && list) return ex.json(200, { models: models().map(modelInfo) }, JSON_HEADERS);
        const one = /^\/(v1beta|v1|v1alpha)\/models\/([^/:]+)$/.exec(path);
        if (method === 'GET' && one) {
          const id = decodeURIComponent(one[2]!);
          if (!models().includes(id)) {
            const e = geminiError(404, 'NOT_FOUND', `models/${id} is not found for API version ${one[1]}`);
            return ex.json(e.status, e.body, e.headers);
          }
          return ex.json(200, modelInfo(id), JSON_HEADERS);
        }
        const e = geminiError(404, 'NOT_FOUND', `The requested URL ${path} was not found on this server.`);
        return ex.json(e.status, e.body, e.headers);
      },
    },
    options,
  );
}
