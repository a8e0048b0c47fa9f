export * from './fault.js';
export { startOpenAIEmulator, openaiStatusError, DEFAULT_OPENAI_MODELS, type OpenAIEmulatorOptions } from './openai-emulator.js';
export { startAnthropicEmulator, anthropicStatusError, DEFAULT_ANTHROPIC_MODELS } from './anthropic-emulator.js';
export { startGeminiEmulator, geminiStatusError, DEFAULT_GEMINI_MODELS } from './gemini-emulator.js';
