// Chat with the gateway from the browser, exactly as an SDK would: POST
// /v1/chat/completions, or /v1/responses (each turn chained to the last by
// previous_response_id, so the gateway keeps the conversation), with the
// project key, the answer streamed over SSE. After each call the request's
// usage record gives its exact cost.
import { ApiError, errorFromResponse, plainError } from '../lib/errors.js';
import { int, money, ms } from '../lib/format.js';
import { html, useEffect, useRef, useState } from '../lib/html.js';
import { restJson, sseData } from '../lib/rest.js';
import { ErrorBox } from '../lib/ui.js';
import type { UsageRecord } from './types.js';

interface CallStats {
  requestId: string | null;
  promptTokens: number | null;
  completionTokens: number | null;
  latencyMs: number;
  ttftMs: number | null;
  cost: string | null;
  test: boolean;
  costNote?: string;
}

interface Message {
  role: 'user' | 'assistant';
  content: string;
  reasoning?: string;
  model?: string;
  streaming?: boolean;
  stopped?: boolean;
  stats?: CallStats;
  /** The stored response this answer is (Responses API): the next turn continues from it. */
  responseId?: string;
}

type Api = 'chat' | 'responses';

/** One Responses API stream event, or a non-stream response object: the fields the playground reads. */
interface ResponsesEvent {
  type?: string;
  delta?: string;
  message?: string;
  code?: string | number | null;
  response?: ResponsesObject;
}

interface ResponsesObject {
  id?: string;
  status?: string;
  error?: { message?: string } | null;
  output?: { type: string; content?: { type: string; text?: string }[] }[];
  usage?: { input_tokens?: number; output_tokens?: number } | null;
}

/** The answer's text, as the SDKs' `output_text` joins it. */
const outputText = (r: ResponsesObject): string =>
  (r.output ?? []).flatMap((item) => (item.type === 'message' ? (item.content ?? []).filter((c) => c.type === 'output_text').map((c) => c.text ?? '') : [])).join('');

interface ChatChunk {
  choices?: { delta?: { content?: string | null; reasoning_content?: string | null }; message?: { content?: string | null; reasoning_content?: string | null } }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
  error?: { message?: string; type?: string; code?: number | string };
}

const sleep = (n: number) => new Promise((r) => setTimeout(r, n));

/** The settled usage record of a call (settlement runs just after the answer ends). */
async function settledRecord(key: string, requestId: string): Promise<UsageRecord | null> {
  for (let attempt = 0; attempt < 12; attempt++) {
    try {
      const record = await restJson<UsageRecord>(`/api/usage/requests/${encodeURIComponent(requestId)}`, key);
      if (record.status !== 'reserved') return record;
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) return null;
    }
    await sleep(150 + attempt * 100);
  }
  return null;
}

export function Playground(props: { secret: string; currency: string; onCall: () => void; onModels?: (models: string[]) => void }) {
  const [models, setModels] = useState<string[]>([]);
  const [model, setModel] = useState('');
  const [modelsError, setModelsError] = useState<string | null>(null);
  const [messages, setMessages] = useState<Message[]>([]);
  const [input, setInput] = useState('');
  const [system, setSystem] = useState('');
  const [temperature, setTemperature] = useState('');
  const [maxTokens, setMaxTokens] = useState('');
  const [stream, setStream] = useState(true);
  const [api, setApi] = useState<Api>('chat');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const abort = useRef<AbortController | null>(null);
  const log = useRef<HTMLDivElement>(null);

  useEffect(() => {
    restJson<{ data: { id: string }[] }>('/v1/models', props.secret)
      .then((list) => {
        // Embedding models cannot chat; everything else the project may use is offered.
        const chat = list.data.map((m) => m.id).filter((id) => !/embed/i.test(id));
        setModels(chat);
        setModel((current) => current || (chat.includes('gpt-4o-mini') ? 'gpt-4o-mini' : (chat[0] ?? '')));
        props.onModels?.(chat);
        if (chat.length === 0) setModelsError('This project may not use any chat model yet. Ask an operator to allow one.');
      })
      .catch((err: unknown) => setModelsError(`Could not load the models: ${plainError(err)}`));
    return () => abort.current?.abort();
  }, [props.secret]);

  useEffect(() => {
    const el = log.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [messages]);

  const patchLast = (patch: Partial<Message> | ((m: Message) => Partial<Message>)) =>
    setMessages((list) => {
      const last = list[list.length - 1]!;
      return [...list.slice(0, -1), { ...last, ...(typeof patch === 'function' ? patch(last) : patch) }];
    });

  const send = async (event?: Event) => {
    event?.preventDefault();
    const text = input.trim();
    if (!text || busy || !model) return;
    setError(null);
    setInput('');
    const history = [...messages.filter((m) => !m.streaming), { role: 'user' as const, content: text }];
    setMessages([...history, { role: 'assistant', content: '', model, streaming: true }]);
    setBusy(true);
    const controller = new AbortController();
    // The project's key, never a cookie; the answer is this turn's alone.
    const post = (path: string, body: unknown) =>
      fetch(path, {
        method: 'POST',
        headers: { authorization: `Bearer ${props.secret}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: controller.signal,
        cache: 'no-store',
        credentials: 'omit',
      });
    abort.current = controller;
    const started = performance.now();
    let ttft: number | null = null;
    let requestId: string | null = null;
    let usage: ChatChunk['usage'] = null;
    let content = '';
    let reasoning = '';
    let responseId: string | undefined;
    try {
      if (api === 'responses') {
        // Continue the stored conversation when the last answer was a stored response; else send the turns as input.
        const previous = messages.filter((m) => !m.streaming).at(-1)?.responseId;
        const body: Record<string, unknown> = {
          model,
          input: previous ? text : history.map(({ role, content: c }) => ({ role, content: c })),
          ...(previous ? { previous_response_id: previous } : {}),
          ...(system.trim() ? { instructions: system.trim() } : {}),
          stream,
          ...(temperature.trim() ? { temperature: Number(temperature) } : {}),
          ...(maxTokens.trim() ? { max_output_tokens: Number(maxTokens) } : {}),
        };
        const res = await post('/v1/responses', body);
        requestId = res.headers.get('x-request-id');
        if (!res.ok) throw await errorFromResponse(res);
        const finish = (r: ResponsesObject) => {
          responseId = r.id;
          if (r.usage) usage = { prompt_tokens: r.usage.input_tokens ?? 0, completion_tokens: r.usage.output_tokens ?? 0 };
          if (r.status === 'failed') throw new ApiError(r.error?.message ?? 'The response failed.', 500, 'api_error');
        };
        if (stream && res.body) {
          for await (const data of sseData(res.body)) {
            const event = JSON.parse(data) as ResponsesEvent;
            if (event.type === 'error') throw new ApiError(event.message ?? 'The stream ended with an error.', Number(event.code) || 500, undefined);
            if (event.type === 'response.output_text.delta' || event.type === 'response.reasoning_text.delta') {
              ttft ??= performance.now() - started;
              if (event.type === 'response.output_text.delta') content += event.delta ?? '';
              else reasoning += event.delta ?? '';
              patchLast({ content, ...(reasoning ? { reasoning } : {}) });
            }
            if ((event.type === 'response.completed' || event.type === 'response.incomplete' || event.type === 'response.failed') && event.response) finish(event.response);
          }
        } else {
          const answer = (await res.json()) as ResponsesObject;
          content = outputText(answer);
          patchLast({ content });
          finish(answer);
        }
        patchLast({ ...(responseId ? { responseId } : {}) });
        return;
      }
      const body: Record<string, unknown> = {
        model,
        messages: [...(system.trim() ? [{ role: 'system', content: system.trim() }] : []), ...history.map(({ role, content: c }) => ({ role, content: c }))],
        stream,
        ...(stream ? { stream_options: { include_usage: true } } : {}),
        ...(temperature.trim() ? { temperature: Number(temperature) } : {}),
        ...(maxTokens.trim() ? { max_tokens: Number(maxTokens) } : {}),
      };
      const res = await post('/v1/chat/completions', body);
      requestId = res.headers.get('x-request-id');
      if (!res.ok) throw await errorFromResponse(res);
      if (stream && res.body) {
        for await (const data of sseData(res.body)) {
          const chunk = JSON.parse(data) as ChatChunk;
          if (chunk.error) throw new ApiError(chunk.error.message ?? 'The stream ended with an error.', Number(chunk.error.code) || 500, chunk.error.type);
          const delta = chunk.choices?.[0]?.delta;
          if (delta?.content || delta?.reasoning_content) {
            ttft ??= performance.now() - started;
            content += delta.content ?? '';
            reasoning += delta.reasoning_content ?? '';
            patchLast({ content, ...(reasoning ? { reasoning } : {}) });
          }
          if (chunk.usage) usage = chunk.usage;
        }
      } else {
        const answer = (await res.json()) as ChatChunk;
        content = answer.choices?.[0]?.message?.content ?? '';
        reasoning = answer.choices?.[0]?.message?.reasoning_content ?? '';
        usage = answer.usage ?? null;
        patchLast({ content, ...(reasoning ? { reasoning } : {}) });
      }
    } catch (err) {
      const stopped = err instanceof DOMException && err.name === 'AbortError';
      if (!stopped) setError(plainError(err));
      patchLast({ stopped });
      if (!content && !stopped) setMessages((list) => list.slice(0, -1));
    } finally {
      const latencyMs = performance.now() - started;
      patchLast({ streaming: false });
      setBusy(false);
      abort.current = null;
      if (requestId) {
        const id = requestId;
        patchLast({
          stats: { requestId: id, promptTokens: usage?.prompt_tokens ?? null, completionTokens: usage?.completion_tokens ?? null, latencyMs, ttftMs: ttft, cost: null, test: props.secret.startsWith('pk_test_') },
        });
        const record = await settledRecord(props.secret, id);
        setMessages((list) =>
          list.map((m) =>
            m.stats?.requestId === id
              ? {
                  ...m,
                  stats: {
                    ...m.stats,
                    promptTokens: m.stats.promptTokens ?? record?.prompt_tokens ?? null,
                    completionTokens: m.stats.completionTokens ?? record?.completion_tokens ?? null,
                    cost: record?.cost ?? null,
                    test: record?.test ?? m.stats.test,
                    ...(record ? {} : { costNote: 'cost not settled yet' }),
                  },
                }
              : m,
          ),
        );
        props.onCall();
      }
    }
  };

  const stats = (s: CallStats) => {
    const parts = [
      s.promptTokens !== null ? `${int(s.promptTokens)} prompt + ${int(s.completionTokens ?? 0)} completion tokens` : 'tokens pending',
      s.cost !== null ? `${money(s.cost, props.currency)}${s.test ? ' (test key, not charged)' : ''}` : (s.costNote ?? 'cost pending…'),
      ms(s.latencyMs),
      ...(s.ttftMs !== null ? [`first token ${ms(s.ttftMs)}`] : []),
    ];
    return html`<div class="call-stats" data-testid="call-stats">
      ${parts.join(' · ')}${s.requestId ? html` · <span class="mono">${s.requestId}</span>` : null}
    </div>`;
  };

  return html`<div data-testid="playground">
    <${ErrorBox} error=${modelsError} />
    <div class="form" style=${{ marginBottom: '10px' }}>
      <label class="field"
        >API
        <select value=${api} onChange=${(e: Event) => setApi((e.target as HTMLSelectElement).value as Api)} disabled=${busy} data-testid="pg-api">
          <option value="chat">Chat completions</option>
          <option value="responses">Responses</option>
        </select>
      </label>
      <label class="field"
        >Model
        <select value=${model} onChange=${(e: Event) => setModel((e.target as HTMLSelectElement).value)} data-testid="pg-model" disabled=${models.length === 0}>
          ${models.map((m) => html`<option value=${m}>${m}</option>`)}
        </select>
      </label>
      <label class="field"
        >Temperature
        <input type="number" min="0" max="2" step="0.1" placeholder="default" value=${temperature} onInput=${(e: Event) => setTemperature((e.target as HTMLInputElement).value)} />
      </label>
      <label class="field"
        >Max tokens
        <input type="number" min="1" step="1" placeholder="default" value=${maxTokens} onInput=${(e: Event) => setMaxTokens((e.target as HTMLInputElement).value)} />
      </label>
      <label class="check" style=${{ paddingBottom: '8px' }}>
        <input type="checkbox" checked=${stream} onChange=${(e: Event) => setStream((e.target as HTMLInputElement).checked)} /> Stream
      </label>
      <label class="field wide"
        >System prompt (optional)
        <input type="text" placeholder="You are a helpful assistant." value=${system} onInput=${(e: Event) => setSystem((e.target as HTMLInputElement).value)} />
      </label>
    </div>
    <div class="chat-log" ref=${log} aria-live="polite" data-testid="chat-log">
      ${messages.length === 0 ? html`<div class="msg placeholder">The answer will appear here, streamed as it is written.</div>` : null}
      ${messages.map(
        (m) => html`<div class=${`msg ${m.role}`} data-testid=${`msg-${m.role}`}>
          <div class="who">${m.role === 'user' ? 'You' : (m.model ?? 'Assistant')}${m.stopped ? ' · stopped' : ''}</div>
          ${m.reasoning ? html`<div class="muted" style=${{ fontStyle: 'italic', marginBottom: '4px' }}>${m.reasoning}</div>` : null}
          <span class=${m.streaming ? 'cursor' : ''} data-testid=${m.role === 'assistant' ? 'answer' : undefined}>${m.content}</span>
          ${m.stats ? stats(m.stats) : null}
        </div>`,
      )}
    </div>
    <${ErrorBox} error=${error} testid="pg-error" />
    <form onSubmit=${send} class="row">
      <label class="field grow" style=${{ flexBasis: '260px' }}
        >Message
        <textarea
          rows="2"
          placeholder="Ask something… (Ctrl+Enter sends)"
          value=${input}
          onInput=${(e: Event) => setInput((e.target as HTMLTextAreaElement).value)}
          onKeyDown=${(e: KeyboardEvent) => {
            if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) void send(e);
          }}
          data-testid="pg-input"
        ></textarea>
      </label>
      <div class="row" style=${{ gap: '6px' }}>
        ${busy
          ? html`<button type="button" onClick=${() => abort.current?.abort()} data-testid="pg-stop">Stop</button>`
          : html`<button type="submit" class="primary" disabled=${!model || !input.trim()} data-testid="pg-send">Send</button>`}
        <button type="button" onClick=${() => setMessages([])} disabled=${busy || messages.length === 0}>Clear</button>
      </div>
    </form>
  </div>`;
}
