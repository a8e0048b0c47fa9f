import { describe, expect, it } from 'vitest';
import { chatRequestSchema, type ChatRequest } from '../../../src/contract/chat-request.js';
import { toGeminiRequest } from '../../../src/providers/gemini/convert-request.js';
import { toGeminiParameters, toGeminiSchema } from '../../../src/providers/gemini/convert-json-schema.js';
import { ProviderError } from '../../../src/contract/provider.js';

const request = (extra: Record<string, unknown>): ChatRequest =>
  chatRequestSchema.parse({ model: 'gem', messages: [{ role: 'user', content: 'hi' }], ...extra });

function rejection(fn: () => unknown): ProviderError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ProviderError) return err;
    throw err;
  }
  throw new Error('expected a ProviderError');
}

const history = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Weather in Paris?' },
  { role: 'user', content: 'And Rome.' },
  {
    role: 'assistant',
    content: null,
    tool_calls: [
      { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
      { id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '{"zone":"CET"}' } },
    ],
  },
  { role: 'tool', tool_call_id: 'call_b', content: '{"time":"12:00"}' },
  { role: 'tool', tool_call_id: 'call_a', content: 'sunny' },
];

describe('toGeminiRequest', () => {
  it('builds systemInstruction, model turns, merged turns and named function responses', () => {
    const body = toGeminiRequest(request({ messages: history }), 'gemini-2.5-flash');
    expect(body).toEqual({
      systemInstruction: { parts: [{ text: 'Be brief.' }] },
      contents: [
        { role: 'user', parts: [{ text: 'Weather in Paris?' }, { text: 'And Rome.' }] },
        {
          role: 'model',
          parts: [
            { functionCall: { name: 'get_weather', args: { city: 'Paris' } } },
            { functionCall: { name: 'get_time', args: { zone: 'CET' } } },
          ],
        },
        {
          role: 'user',
          parts: [
            { functionResponse: { name: 'get_time', response: { time: '12:00' } } },
            { functionResponse: { name: 'get_weather', response: { content: 'sunny' } } },
          ],
        },
      ],
    });
  });

  it('gives replayed function calls a placeholder thought signature on Gemini 3', () => {
    const body = toGeminiRequest(request({ messages: history }), 'gemini-3-pro-preview');
    const model = (body.contents as Array<{ role: string; parts: Array<Record<string, unknown>> }>)[1]!;
    expect(model.parts[0]!.thoughtSignature).toBe('skip_thought_signature_validator');
    expect(model.parts[1]).not.toHaveProperty('thoughtSignature');
  });

  it('rejects a tool result whose call it cannot find', () => {
    const err = rejection(() =>
      toGeminiRequest(request({ messages: [{ role: 'user', content: 'x' }, { role: 'tool', tool_call_id: 'nope', content: 'r' }] }), 'g'),
    );
    expect(err.clientStatus).toBe(400);
    expect(err.message).toContain('nope');
  });

  it('sends data: images inline and http images as fileData', () => {
    const body = toGeminiRequest(
      request({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is this?' },
              { type: 'image_url', image_url: { url: 'data:image/webp;base64,UklGR' } },
              { type: 'image_url', image_url: { url: 'https://example.com/a/photo.PNG?x=1' } },
              { type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } },
            ],
          },
        ],
      }),
      'g',
    );
    expect(body.contents).toEqual([
      {
        role: 'user',
        parts: [
          { text: 'What is this?' },
          { inlineData: { mimeType: 'image/webp', data: 'UklGR' } },
          { fileData: { mimeType: 'image/png', fileUri: 'https://example.com/a/photo.PNG?x=1' } },
          { inlineData: { mimeType: 'audio/wav', data: 'AAAA' } },
        ],
      },
    ]);
  });

  it('builds generationConfig', () => {
    const body = toGeminiRequest(
      request({
        temperature: 0.5,
        top_p: 0.8,
        n: 2,
        max_tokens: 100,
        stop: ['END'],
        seed: 3,
        response_format: {
          type: 'json_schema',
          json_schema: {
            name: 'x',
            strict: true,
            schema: { type: 'object', properties: { a: { type: ['string', 'null'] } }, required: ['a'], additionalProperties: false },
          },
        },
      }),
      'g',
    );
    expect(body.generationConfig).toEqual({
      temperature: 0.5,
      topP: 0.8,
      candidateCount: 2,
      maxOutputTokens: 100,
      stopSequences: ['END'],
      seed: 3,
      responseMimeType: 'application/json',
      responseSchema: { type: 'object', properties: { a: { type: 'string', nullable: true } }, required: ['a'] },
    });
    expect(toGeminiRequest(request({ stop: 'x', response_format: { type: 'json_object' } }), 'g').generationConfig).toEqual({
      stopSequences: ['x'],
      responseMimeType: 'application/json',
    });
  });

  it('maps think and reasoning_effort to thinkingConfig', () => {
    expect(toGeminiRequest(request({ think: true }), 'g').generationConfig).toEqual({
      thinkingConfig: { thinkingBudget: 2048, includeThoughts: true },
    });
    expect(toGeminiRequest(request({ reasoning_effort: 'high' }), 'g').generationConfig).toEqual({
      thinkingConfig: { thinkingBudget: 4096, includeThoughts: true },
    });
    expect(toGeminiRequest(request({ reasoning_effort: 'none' }), 'g').generationConfig).toEqual({ thinkingConfig: { thinkingBudget: 0 } });
    expect(rejection(() => toGeminiRequest(request({ reasoning_effort: 'turbo' }), 'g')).message).toContain('reasoning_effort');
  });

  it('maps tools, tool_choice and deepsearch', () => {
    const tools = [
      { type: 'function', function: { name: 'get_weather', description: 'W', parameters: { type: 'object', properties: { city: { type: 'string' } }, additionalProperties: false } } },
      { type: 'function', function: { name: 'now', parameters: { type: 'object', properties: {} } } },
    ];
    const body = toGeminiRequest(request({ tools, tool_choice: { type: 'function', function: { name: 'now' } }, deepsearch: true }), 'g');
    expect(body.tools).toEqual([
      {
        functionDeclarations: [
          { name: 'get_weather', description: 'W', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
          { name: 'now' },
        ],
      },
      { googleSearch: {} },
    ]);
    expect(body.toolConfig).toEqual({ functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['now'] } });
    expect(toGeminiRequest(request({ tools, tool_choice: 'none' }), 'g').toolConfig).toEqual({ functionCallingConfig: { mode: 'NONE' } });
    expect(toGeminiRequest(request({ tools, tool_choice: 'auto' }), 'g').toolConfig).toEqual({ functionCallingConfig: { mode: 'AUTO' } });
    expect(toGeminiRequest(request({ tools, tool_choice: 'required' }), 'g').toolConfig).toEqual({ functionCallingConfig: { mode: 'ANY' } });
    expect(toGeminiRequest(request({ tools }), 'g')).not.toHaveProperty('toolConfig');
  });

  it.each([[{ logprobs: true }, 'logprobs'], [{ top_logprobs: 1 }, 'top_logprobs']])('rejects %j', (extra, option) => {
    const err = rejection(() => toGeminiRequest(request(extra), 'g'));
    expect(err.clientStatus).toBe(400);
    expect(err.message).toContain(option);
  });
});

describe('toGeminiSchema', () => {
  it('keeps what Gemini knows, recursively', () => {
    expect(
      toGeminiSchema({
        $schema: 'http://json-schema.org/draft-07/schema#',
        type: 'object',
        additionalProperties: false,
        properties: {
          tags: { type: 'array', items: { type: 'string', const: 'x', examples: ['x'] } },
          kind: { anyOf: [{ type: 'string' }, { type: 'integer', exclusiveMinimum: 0 }] },
        },
      }),
    ).toEqual({
      type: 'object',
      properties: {
        tags: { type: 'array', items: { type: 'string', enum: ['x'] } },
        kind: { anyOf: [{ type: 'string' }, { type: 'integer' }] },
      },
    });
  });
  it('leaves out empty object parameters', () => {
    expect(toGeminiParameters({ type: 'object', properties: {} })).toBeUndefined();
    expect(toGeminiParameters(undefined)).toBeUndefined();
  });
});
