/**
 * OpenAI (and DeepSeek-style OpenAI-compatible) emulator:
 * `POST /v1/chat/completions`, `POST /v1/embeddings`, `GET /v1/models[/{id}]`.
 *
 * Stream events (what `*AfterEvents` counts), in order: the role chunk, one chunk
 * per reasoning piece, one per text piece, per tool call a start chunk (id, name)
 * then one per argument fragment, the finish chunk, the usage chunk (only with
 * `stream_options.include_usage`). `data: [DONE]` is not counted.
 *
 * With `honoursCap` it reads one output-cap field and ignores the other, as
 * real servers do (OpenAI max_completion_tokens, DeepSeek and most compatible
 * servers max_tokens), and generates as many tokens as that cap allows.
 */
import {
  collectText,
  embeddingFor,
  type Exchange,
  resolveScript,
  splitText,
  sseData,
  startEmulator,
  tokens,
  type Emulator,
  type EmulatorOptions,
  type ErrorReply,
  type ResolvedScript,
  type Script,
} from './fault.js';

export const DEFAULT_OPENAI_MODELS = [
  'gpt-4o',
  'gpt-4o-mini',
  'gpt-4.1',
  'o4-mini',
  'text-embedding-3-small',
  'text-embedding-3-large',
  'text-embedding-ada-002',
];

let seq = 0;
const nextId = () => (++seq).toString(36).padStart(8, '0');

function openaiError(
  status: number,
  message: string,
  type: string,
  code: string | number | null = null,
  param: string | null = null,
  headers: Record<string, string> = {},
): ErrorReply {
  return { status, body: { error: { message, type, param, code } }, headers };
}

function maskKey(key: string): string {
  if (key.length <= 8) return `${key.slice(0, 2)}****`;
  return `${key.slice(0, 3)}${'*'.repeat(Math.min(key.length - 7, 20))}${key.slice(-4)}`;
}

const modelNotFound = (model: string) =>
  openaiError(404, `The model \`${model}\` does not exist or you do not have access to it.`, 'invalid_request_error', 'model_not_found');

const CODE_TYPES: Record<string, string> = {
  insufficient_quota: 'insufficient_quota',
  rate_limit_exceeded: 'requests',
  invalid_api_key: 'invalid_request_error',
  model_not_found: 'invalid_request_error',
  context_length_exceeded: 'invalid_request_error',
  unsupported_country_region_territory: 'request_forbidden',
};

/** The error OpenAI really answers for `status` (message/code overridable by the fault). */
export function openaiStatusError(status: number, model: string, message?: string, code?: string): ErrorReply {
  let reply: ErrorReply;
  if (code === 'insufficient_quota') {
    reply = openaiError(
      status,
      'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.',
      'insufficient_quota',
      'insufficient_quota',
    );
  } else if (status === 400) reply = openaiError(400, 'Invalid request.', 'invalid_request_error');
  else if (status === 401)
    reply = openaiError(
      401,
      'Incorrect API key provided: sk-emu***. You can find your API key at https://platform.openai.com/account/api-keys.',
      'invalid_request_error',
      'invalid_api_key',
    );
  else if (status === 403)
    reply = openaiError(403, 'Country, region, or territory not supported', 'request_forbidden', 'unsupported_country_region_territory');
  else if (status === 404) reply = modelNotFound(model);
  else if (status === 429)
    reply = openaiError(
      429,
      `Rate limit reached for ${model} in organization org-emulator on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s. Visit https://platform.openai.com/account/rate-limits to learn more.`,
      'requests',
      'rate_limit_exceeded',
    );
  else if (status === 502) reply = openaiError(502, 'Bad gateway.', 'cf_bad_gateway', 502);
  else if (status === 503) reply = openaiError(503, 'The engine is currently overloaded, please try again later', 'server_error');
  else if (status === 504) reply = openaiError(504, 'Gateway timeout.', 'cf_gateway_timeout', 504);
  else if (status >= 500)
    reply = openaiError(
      status,
      'The server had an error while processing your request. Sorry about that!',
      'server_error',
    );
  else reply = openaiError(status, 'Invalid request.', 'invalid_request_error');
  const err = (reply.body as { error: { message: string; type: string; code: unknown } }).error;
  if (message !== undefined) err.message = message;
  if (code !== undefined) {
    err.code = code;
    err.type = CODE_TYPES[code] ?? err.type;
  }
  return reply;
}

function headersFor(ex: Exchange): Record<string, string> {
  return { 'x-request-id': `req_${ex.requestId}`, 'openai-processing-ms': '1', 'openai-version': '2020-10-01' };
}

export interface OpenAIEmulatorOptions extends EmulatorOptions {
  /**
   * Extension: the one output-cap field this upstream reads. An answer is then
   * exactly that many tokens of text (` tok` each, finish `length`), or
   * `uncappedTokens` (finish `stop`) when the field is absent; the script's
   * text and output count are replaced, its other settings kept.
   */
  honoursCap?: 'max_tokens' | 'max_completion_tokens';
  /** With `honoursCap`: the answer's length when the request sets no cap it reads. Default 2000. */
  uncappedTokens?: number;
}

/** The script, sized to the cap the emulator honours, if it honours one. */
function cappedScript(ex: Exchange, options: OpenAIEmulatorOptions): Script {
  if (!options.honoursCap) return ex.script;
  const cap: unknown = ex.body[options.honoursCap];
  const capped = typeof cap === 'number' && Number.isInteger(cap) && cap > 0;
  const count = capped ? cap : (options.uncappedTokens ?? 2000);
  const usage = ex.script.usage ? { ...ex.script.usage, output: count } : undefined;
  return { ...ex.script, text: ' tok'.repeat(count), finishReason: capped ? 'length' : 'stop', ...(usage ? { usage } : {}) };
}

function requestedModel(ex: Exchange): string {
  const m = (ex.body as { model?: unknown } | undefined)?.model;
  return typeof m === 'string' && m ? m : 'gpt-4o-mini';
}

function usageObject(s: ResolvedScript) {
  return {
    prompt_tokens: s.usage.input,
    completion_tokens: s.usage.output,
    total_tokens: s.usage.input + s.usage.output,
    prompt_tokens_details: { cached_tokens: s.usage.cached, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: s.usage.reasoning,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

const VALID_ROLES = ['system', 'assistant', 'user', 'function', 'tool', 'developer'];

function validateChat(body: any): ErrorReply | undefined {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    return openaiError(400, 'We could not parse the JSON body of your request. (HINT: This likely means you aren\'t using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)', 'invalid_request_error');
  if (typeof body.model !== 'string' || !body.model)
    return openaiError(400, 'you must provide a model parameter', 'invalid_request_error');
  if (!Array.isArray(body.messages))
    return openaiError(400, "Missing required parameter: 'messages'.", 'invalid_request_error', 'missing_required_parameter', 'messages');
  if (body.messages.length === 0)
    return openaiError(
      400,
      "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
      'invalid_request_error',
      'empty_array',
      'messages',
    );
  const toolCallIds = new Set<string>();
  for (let i = 0; i < body.messages.length; i++) {
    const m = body.messages[i];
    if (!m || typeof m !== 'object' || !VALID_ROLES.includes(m.role))
      return openaiError(
        400,
        `Invalid value: '${String(m?.role)}'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.`,
        'invalid_request_error',
        'invalid_value',
        `messages[${i}].role`,
      );
    if (m.role === 'assistant' && Array.isArray(m.tool_calls)) for (const c of m.tool_calls) toolCallIds.add(c?.id);
    if (m.role === 'tool' && !toolCallIds.has(m.tool_call_id))
      return openaiError(
        400,
        "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
        'invalid_request_error',
        null,
        `messages.[${i}].role`,
      );
  }
  return undefined;
}

async function chatCompletions(ex: Exchange, options: OpenAIEmulatorOptions): Promise<void> {
  const body = ex.body;
  const invalid = validateChat(body);
  if (invalid) return ex.json(invalid.status, invalid.body, headersFor(ex));
  const model: string = body.model;
  if (ex.options.models && !ex.options.models.includes(model)) {
    const e = modelNotFound(model);
    return ex.json(e.status, e.body, headersFor(ex));
  }
  const s = resolveScript(cappedScript(ex, options), 'openai', collectText(body.messages).join(''));
  const id = `chatcmpl-emu${nextId()}`;
  const created = Math.floor(Date.now() / 1000);
  const callIds = s.toolCalls.map((_, i) => `call_emu${nextId()}${i}`);

  if (body.stream !== true) {
    const message: Record<string, unknown> = {
      role: 'assistant',
      content: s.text ? s.text : null,
      refusal: null,
      annotations: [],
    };
    if (s.reasoning) message.reasoning_content = s.reasoning;
    if (s.toolCalls.length > 0)
      message.tool_calls = s.toolCalls.map((c, i) => ({
        id: callIds[i],
        type: 'function',
        function: { name: c.name, arguments: JSON.stringify(c.arguments) },
      }));
    return ex.json(
      200,
      {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [{ index: 0, message, logprobs: null, finish_reason: s.finishReason }],
        usage: usageObject(s),
        service_tier: 'default',
        system_fingerprint: 'fp_emulator',
      },
      headersFor(ex),
    );
  }

  const includeUsage = body.stream_options?.include_usage === true;
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model,
    service_tier: 'default',
    system_fingerprint: 'fp_emulator',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    ...(includeUsage ? { usage: null } : {}),
  });
  const events: object[] = [chunk({ role: 'assistant', content: '', refusal: null })];
  for (const piece of splitText(s.reasoning, s.chunks)) events.push(chunk({ reasoning_content: piece }));
  for (const piece of splitText(s.text, s.chunks)) events.push(chunk({ content: piece }));
  s.toolCalls.forEach((c, index) => {
    events.push(
      chunk({ tool_calls: [{ index, id: callIds[index], type: 'function', function: { name: c.name, arguments: '' } }] }),
    );
    for (const frag of splitText(JSON.stringify(c.arguments), Math.max(2, s.chunks)))
      events.push(chunk({ tool_calls: [{ index, function: { arguments: frag } }] }));
  });
  events.push(chunk({}, s.finishReason));
  if (includeUsage)
    events.push({
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      service_tier: 'default',
      system_fingerprint: 'fp_emulator',
      choices: [],
      usage: usageObject(s),
    });
  const malformed = JSON.stringify(chunk({ content: 'this frame is cut' }));
  const streamError = openaiStatusError(500, model, ex.fault.message, ex.fault.code).body;
  return ex.sse(events.map(sseData), {
    headers: headersFor(ex),
    errorFrame: sseData(streamError),
    malformedFrame: `data: ${malformed.slice(0, Math.floor(malformed.length / 2))}\n\n`,
    terminator: 'data: [DONE]\n\n',
  });
}

function defaultDims(model: string): number {
  if (model.includes('3-large')) return 3072;
  return 1536;
}

async function embeddings(ex: Exchange): Promise<void> {
  const body = ex.body;
  const invalidInput = () =>
    openaiError(
      400,
      "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.",
      'invalid_request_error',
    );
  if (!body || typeof body !== 'object' || typeof body.model !== 'string' || !body.model) {
    const e = openaiError(400, 'you must provide a model parameter', 'invalid_request_error');
    return ex.json(e.status, e.body, headersFor(ex));
  }
  const model: string = body.model;
  if (ex.options.models && !ex.options.models.includes(model)) {
    const e = modelNotFound(model);
    return ex.json(e.status, e.body, headersFor(ex));
  }
  // Normalise input into a list of items: strings or token arrays.
  const input = body.input;
  let items: Array<string | number[]>;
  if (typeof input === 'string') items = [input];
  else if (Array.isArray(input) && input.length > 0 && input.every((x) => typeof x === 'number')) items = [input as number[]];
  else if (Array.isArray(input)) items = input as Array<string | number[]>;
  else items = [];
  const itemOk = (x: unknown) =>
    (typeof x === 'string' && x.length > 0) || (Array.isArray(x) && x.length > 0 && x.every((t) => Number.isInteger(t)));
  if (items.length === 0 || items.length > 2048 || !items.every(itemOk)) {
    const e = invalidInput();
    return ex.json(e.status, e.body, headersFor(ex));
  }
  let dims = defaultDims(model);
  if (body.dimensions !== undefined && body.dimensions !== null) {
    if (model === 'text-embedding-ada-002') {
      const e = openaiError(400, 'This model does not support specifying dimensions.', 'invalid_request_error', null, 'dimensions');
      return ex.json(e.status, e.body, headersFor(ex));
    }
    if (!Number.isInteger(body.dimensions) || body.dimensions < 1 || body.dimensions > dims) {
      const e = openaiError(
        400,
        `Invalid 'dimensions': integer out of range. Expected a value between 1 and ${dims}, but got ${String(body.dimensions)} instead.`,
        'invalid_request_error',
        'integer_out_of_range',
        'dimensions',
      );
      return ex.json(e.status, e.body, headersFor(ex));
    }
    dims = body.dimensions;
  }
  const base64 = body.encoding_format === 'base64';
  let promptTokens = 0;
  const data = items.map((item, index) => {
    const seed = typeof item === 'string' ? item : item.join(',');
    promptTokens += typeof item === 'string' ? tokens(item.length) : item.length;
    const vec = embeddingFor(seed, dims);
    const embedding = base64 ? Buffer.from(new Float32Array(vec).buffer).toString('base64') : vec;
    return { object: 'embedding', index, embedding };
  });
  return ex.json(
    200,
    { object: 'list', data, model, usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } },
    headersFor(ex),
  );
}

export function startOpenAIEmulator(options: OpenAIEmulatorOptions = {}): Promise<Emulator> {
  const models = () => options.models ?? DEFAULT_OPENAI_MODELS;
  return startEmulator(
    {
      name: 'openai',
      urlSuffix: '/v1',
      invalidJson: () =>
        openaiError(
          400,
          "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)",
          'invalid_request_error',
        ),
      authenticate(ex) {
        const auth = ex.record.headers['authorization'] ?? '';
        const match = /^Bearer\s+(.+)$/i.exec(auth.trim());
        const key = match?.[1]?.trim() ?? '';
        if (!key)
          return openaiError(
            401,
            "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.",
            'invalid_request_error',
            null,
            null,
            headersFor(ex),
          );
        if (options.validKeys && !options.validKeys.includes(key))
          return openaiError(
            401,
            `Incorrect API key provided: ${maskKey(key)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
            'invalid_request_error',
            'invalid_api_key',
            null,
            headersFor(ex),
          );
        return undefined;
      },
      faultError(ex, status) {
        const reply = openaiStatusError(status, requestedModel(ex), ex.fault.message, ex.fault.code);
        reply.headers = { ...headersFor(ex), ...(ex.fault.retryAfter !== undefined ? { 'retry-after': String(ex.fault.retryAfter) } : {}) };
        return reply;
      },
      async handle(ex) {
        const { method } = ex.record;
        // OpenAI-compatible services (DeepSeek...) also serve the paths without `/v1`.
        const trimmed = ex.record.path.replace(/\/+$/, '');
        const path = trimmed.startsWith('/v1/') ? trimmed : `/v1${trimmed}`;
        if (method === 'POST' && path === '/v1/chat/completions') return chatCompletions(ex, options);
        if (method === 'POST' && path === '/v1/embeddings') return embeddings(ex);
        if (method === 'GET' && path === '/v1/models')
          return ex.json(
            200,
            { object: 'list', data: models().map((id) => ({ id, object: 'model', created: 1715367049, owned_by: 'system' })) },
            headersFor(ex),
          );
        const one = /^\/v1\/models\/(.+)$/.exec(path);
        if (method === 'GET' && one) {
          const id = decodeURIComponent(one[1]!);
          if (!models().includes(id)) {
            const e = modelNotFound(id);
            return ex.json(e.status, e.body, headersFor(ex));
          }
          return ex.json(200, { id, object: 'model', created: 1715367049, owned_by: 'system' }, headersFor(ex));
        }
        const e = openaiError(404, `Invalid URL (${method} ${ex.record.path})`, 'invalid_request_error');
        return ex.json(e.status, e.body, headersFor(ex));
      },
    },
    options,
  );
}
