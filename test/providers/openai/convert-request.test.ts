import { describe, expect, it } from 'vitest';
import { chatRequestSchema, type ChatRequest } from '../../../src/contract/chat-request.js';
import { toOpenAIChatBody } from '../../../src/providers/openai/convert-request.js';
import { deepseekDialect, openaiCompatibleDialect, openaiDialect } from '../../../src/providers/openai/openai-dialect.js';
import { ProviderError } from '../../../src/contract/provider.js';

const request = (extra: Record<string, unknown> = {}): ChatRequest =>
  chatRequestSchema.parse({ model: 'smart', messages: [{ role: 'user', content: 'hi' }], ...extra });

describe('toOpenAIChatBody', () => {
  it('passes the request through with the upstream model and without gateway fields', () => {
    const body = toOpenAIChatBody(
      request({ timeout: 30, think: false, deepsearch: false, mock_scenario: 'x', mockDelay: 1, temperature: 0.2, logit_bias: { '1': 2 } }),
      'gpt-4o-2024-08-06',
      openaiDialect,
      false,
    );
    expect(body).toEqual({
      model: 'gpt-4o-2024-08-06',
      messages: [{ role: 'user', content: 'hi' }],
      temperature: 0.2,
      logit_bias: { '1': 2 },
    });
  });

  it("sends one output cap, in the dialect's field: the given cap, else the smaller of the two fields", () => {
    const both = request({ max_tokens: 4000, max_completion_tokens: 1 });
    expect(toOpenAIChatBody(both, 'm', openaiDialect, false, 1)).toMatchObject({ max_completion_tokens: 1 });
    expect(toOpenAIChatBody(both, 'm', openaiDialect, false, 1)).not.toHaveProperty('max_tokens');
    expect(toOpenAIChatBody(both, 'm', deepseekDialect, true, 1)).toMatchObject({ max_tokens: 1 });
    expect(toOpenAIChatBody(both, 'm', deepseekDialect, true, 1)).not.toHaveProperty('max_completion_tokens');
    expect(toOpenAIChatBody(request(), 'm', openaiCompatibleDialect, false, 50)).toMatchObject({ max_tokens: 50 });
    expect(toOpenAIChatBody(both, 'm', openaiCompatibleDialect, false)).toMatchObject({ max_tokens: 1 });
    expect(toOpenAIChatBody(request(), 'm', openaiDialect, false)).not.toHaveProperty('max_completion_tokens');
  });

  it('always asks for usage on streams, keeping other stream options', () => {
    const body = toOpenAIChatBody(request({ stream: true, stream_options: { include_usage: false, extra: 1 } }), 'm', openaiDialect, true);
    expect(body.stream).toBe(true);
    expect(body.stream_options).toEqual({ include_usage: true, extra: 1 });
  });

  it('drops stream_options on a non-stream call', () => {
    const body = toOpenAIChatBody(request({ stream: false, stream_options: { include_usage: true } }), 'm', openaiDialect, false);
    expect(body).not.toHaveProperty('stream_options');
    expect(body).not.toHaveProperty('stream');
  });

  it('maps think to reasoning_effort medium unless an effort is set', () => {
    expect(toOpenAIChatBody(request({ think: true }), 'o4-mini', openaiDialect, false).reasoning_effort).toBe('medium');
    expect(toOpenAIChatBody(request({ think: true, reasoning_effort: 'high' }), 'o4-mini', openaiDialect, false).reasoning_effort).toBe('high');
    expect(toOpenAIChatBody(request({ think: true }), 'm', openaiCompatibleDialect, false).reasoning_effort).toBe('medium');
  });

  it('maps deepsearch to web_search_options, keeping the client options', () => {
    expect(toOpenAIChatBody(request({ deepsearch: true }), 'gpt-4o-search-preview', openaiDialect, false).web_search_options).toEqual({});
    const own = { search_context_size: 'high' };
    expect(toOpenAIChatBody(request({ deepsearch: true, web_search_options: own }), 'm', openaiDialect, false).web_search_options).toEqual(own);
  });

  it('uses DeepSeek thinking switch and refuses deepsearch there', () => {
    expect(toOpenAIChatBody(request({ think: true }), 'deepseek-chat', deepseekDialect, false).thinking).toEqual({ type: 'enabled' });
    let error: unknown;
    try {
      toOpenAIChatBody(request({ deepsearch: true }), 'deepseek-chat', deepseekDialect, false);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).clientStatus).toBe(400);
    expect((error as ProviderError).message).toContain('deepsearch');
  });
});
