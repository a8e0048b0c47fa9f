// The Gemini door's parser and translation alone: what each part of a
// GenerateContentRequest becomes in the internal chat request, and the 400s
// naming what cannot be sent on.
import { describe, expect, it } from 'vitest';
import { generateContentSchema } from '../../src/core/doors/gemini/generate-request.js';
import { geminiSchemaToJsonSchema } from '../../src/core/doors/gemini/gemini-schema.js';
import { geminiToChat } from '../../src/core/doors/gemini/to-chat.js';
import { GatewayError } from '../../src/core/errors.js';
import { validate } from '../../src/core/validate.js';

const chat = (body: Record<string, unknown>) => geminiToChat(validate(generateContentSchema, { model: 'm', stream: false, ...body }));
const refusal = (body: Record<string, unknown>) => {
  try {
    chat(body);
  } catch (e) {
    expect(e).toBeInstanceOf(GatewayError);
    return { status: (e as GatewayError).status, param: (e as GatewayError).param, message: (e as GatewayError).message };
  }
  throw new Error('expected a refusal');
};

describe('geminiToChat', () => {
  it('turns system, user media, model calls and function responses into chat messages', () => {
    const req = chat({
      systemInstruction: { parts: [{ text: 'Be terse.' }, { text: 'English.' }] },
      contents: [
        {
          role: 'user',
          parts: [
            { text: 'What is this?' },
            { inlineData: { mimeType: 'image/png', data: 'AAAA' } },
            { fileData: { fileUri: 'https://example.com/cat.jpg' } },
            { inlineData: { mimeType: 'application/pdf', data: 'JVBE' } },
          ],
        },
        { role: 'model', parts: [{ text: 'hmm', thought: true, thoughtSignature: 'sig' }, { text: 'Checking.' }, { functionCall: { name: 'look', args: { q: 1 } } }, { functionCall: { name: 'look', args: { q: 2 }, id: 'c2' } }] },
        { role: 'user', parts: [{ functionResponse: { name: 'look', id: 'c2', response: { r: 2 } } }, { functionResponse: { name: 'look', response: { r: 1 } } }, { text: 'Thanks' }] },
      ],
    });
    expect(req.messages).toEqual([
      { role: 'system', content: 'Be terse.\nEnglish.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is this?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
          { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBE', filename: 'file' } },
        ],
      },
      {
        role: 'assistant',
        content: 'Checking.',
        reasoning_content: 'hmm',
        tool_calls: [
          { id: 'call_1_2', type: 'function', function: { name: 'look', arguments: '{"q":1}' } },
          { id: 'c2', type: 'function', function: { name: 'look', arguments: '{"q":2}' } },
        ],
      },
      // Answered by id first, then by name; tool results come straight after the calls.
      { role: 'tool', tool_call_id: 'c2', content: '{"r":2}' },
      { role: 'tool', tool_call_id: 'call_1_2', content: '{"r":1}' },
      { role: 'user', content: 'Thanks' },
    ]);
  });

  it('maps generationConfig, tools and toolConfig to the chat fields', () => {
    const req = chat({
      contents: [{ parts: [{ text: 'hi' }] }],
      tools: [{ functionDeclarations: [{ name: 'a', parameters: { type: 'OBJECT', properties: { x: { type: 'STRING', nullable: true } } } }, { name: 'b', parametersJsonSchema: { type: 'object' } }, { name: 'c' }] }, { googleSearch: {} }],
      toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['a', 'b'] } },
      generationConfig: { maxOutputTokens: 77, temperature: 0.3, topP: 0.8, topK: 20, stopSequences: ['END'], seed: 4, responseMimeType: 'application/json', responseJsonSchema: { type: 'object' } },
    });
    expect(req).toMatchObject({
      max_tokens: 77,
      temperature: 0.3,
      top_p: 0.8,
      top_k: 20,
      stop: ['END'],
      seed: 4,
      deepsearch: true,
      tool_choice: 'required',
      response_format: { type: 'json_schema', json_schema: { name: 'response', schema: { type: 'object' } } },
    });
    // ANY with several allowed names: only those are offered, and one must be called.
    expect(req.tools!.map((t) => t.function.name)).toEqual(['a', 'b']);
    expect(req.tools![0]!.function.parameters).toEqual({ type: 'object', properties: { x: { type: ['string', 'null'] } } });
    expect(chat({ contents: [{ parts: [{ text: 'x' }] }], tools: [{ functionDeclarations: [{ name: 'a' }] }], toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['a'] } } }).tool_choice).toEqual({ type: 'function', function: { name: 'a' } });
    expect(chat({ contents: [{ parts: [{ text: 'x' }] }], generationConfig: { responseMimeType: 'application/json' } }).response_format).toEqual({ type: 'json_object' });
  });

  it('carries a thinking budget exactly and as the effort it falls in', () => {
    const thinking = (thinkingConfig: Record<string, unknown>) => chat({ contents: [{ parts: [{ text: 'x' }] }], generationConfig: { thinkingConfig } });
    expect(thinking({ thinkingBudget: 512 })).toMatchObject({ thinking_budget: 512, reasoning_effort: 'low' });
    expect(thinking({ thinkingBudget: 2048 })).toMatchObject({ thinking_budget: 2048, reasoning_effort: 'medium' });
    expect(thinking({ thinkingBudget: 8000 })).toMatchObject({ thinking_budget: 8000, reasoning_effort: 'high' });
    expect(thinking({ thinkingBudget: 0 })).toMatchObject({ thinking_budget: 0, reasoning_effort: 'none' });
    expect(thinking({ thinkingBudget: -1 })).toMatchObject({ reasoning_effort: 'medium' });
    expect(thinking({ thinkingBudget: -1 }).thinking_budget).toBeUndefined();
    expect(thinking({ thinkingLevel: 'HIGH' })).toMatchObject({ reasoning_effort: 'high' });
    expect(thinking({ includeThoughts: true })).toMatchObject({ think: true });
  });

  it('refuses what it cannot send on, naming the field', () => {
    const text = [{ parts: [{ text: 'x' }] }];
    expect(refusal({ contents: text, cachedContent: 'cachedContents/1' })).toMatchObject({ status: 400, param: 'cachedContent' });
    expect(refusal({ contents: text, generationConfig: { candidateCount: 3 } })).toMatchObject({ param: 'generationConfig.candidateCount' });
    expect(refusal({ contents: text, generationConfig: { responseModalities: ['IMAGE'] } })).toMatchObject({ param: 'generationConfig.responseModalities' });
    expect(refusal({ contents: text, generationConfig: { responseMimeType: 'text/x.enum' } })).toMatchObject({ param: 'generationConfig.responseMimeType' });
    expect(refusal({ contents: text, generationConfig: { responseSchema: { type: 'OBJECT' } } })).toMatchObject({ param: 'generationConfig.responseSchema' });
    expect(refusal({ contents: text, tools: [{ codeExecution: {} }] })).toMatchObject({ param: 'tools.0.codeExecution' });
    expect(refusal({ contents: [{ parts: [{ fileData: { fileUri: 'gs://b/video.mp4', mimeType: 'video/mp4' } }] }] })).toMatchObject({ param: 'contents.0.parts.0.fileData' });
    expect(refusal({ contents: [{ parts: [{ executableCode: { code: '1' } }] }] })).toMatchObject({ param: 'contents.0.parts.0' });
    expect(refusal({ contents: [{ role: 'user', parts: [{ functionResponse: { name: 'nobody', response: {} } }] }] })).toMatchObject({ param: 'contents.0.parts.0.functionResponse' });
    expect(refusal({ contents: text, tools: [{ functionDeclarations: [{ name: 'a' }] }], toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['z'] } } })).toMatchObject({
      param: 'toolConfig.functionCallingConfig.allowedFunctionNames',
    });
  });

  it('validates the body with paths the client can find', () => {
    expect(() => validate(generateContentSchema, { model: 'm', stream: false, contents: [{ role: 'system', parts: [{ text: 'x' }] }] })).toThrow(/contents\.0\.role/);
    expect(() => validate(generateContentSchema, { model: 'm', stream: false, contents: [{ parts: [] }] })).toThrow(/contents\.0\.parts/);
    expect(() => validate(generateContentSchema, { model: 'm', stream: false })).toThrow(/Missing required parameter: 'contents'/);
  });
});

describe('geminiSchemaToJsonSchema', () => {
  it('lower-cases types, turns nullable into a null type and keeps the JSON Schema keywords', () => {
    expect(
      geminiSchemaToJsonSchema({
        type: 'ARRAY',
        minItems: 1,
        propertyOrdering: ['a'],
        items: { type: 'OBJECT', required: ['a'], properties: { a: { type: 'INTEGER', minimum: 0 }, b: { anyOf: [{ type: 'STRING' }, { type: 'NUMBER' }] } } },
      }),
    ).toEqual({
      type: 'array',
      minItems: 1,
      items: { type: 'object', required: ['a'], properties: { a: { type: 'integer', minimum: 0 }, b: { anyOf: [{ type: 'string' }, { type: 'number' }] } } },
    });
  });
});
