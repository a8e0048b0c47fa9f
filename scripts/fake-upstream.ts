// A local OpenAI-compatible upstream for trying live keys without a provider
// account: the test suite's emulator, which answers with real OpenAI shapes
// and reports usage, so the gateway charges as it would for a real provider.
import { startOpenAIEmulator } from '../test/emulators/index.js';

const port = Number(process.env.FAKE_UPSTREAM_PORT ?? 9100);
const emulator = await startOpenAIEmulator({ port });
console.log(`fake OpenAI-compatible upstream on ${emulator.url} (any key; Ctrl-C stops it)`);
