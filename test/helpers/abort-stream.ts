import type OpenAI from 'openai';

/**
 * Reads a chat stream and aborts it through `controller` once `chunks`
 * chunks with content have arrived, as a client that leaves mid-answer;
 * the abort's error ends the read quietly.
 */
export async function abortAfterContent(stream: AsyncIterable<OpenAI.ChatCompletionChunk>, controller: AbortController, chunks: number): Promise<void> {
  let seen = 0;
  try {
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) seen++;
      if (seen === chunks) controller.abort();
    }
  } catch {
    // The abort, as meant.
  }
}
