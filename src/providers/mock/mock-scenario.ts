// Faults a client developer can trigger on purpose in test mode, with the
// `X-Mock-Scenario` header, to exercise their own error handling.
export const mockScenarios = [
  'error-400',
  'error-401',
  'error-402',
  'error-403',
  'error-429',
  'error-500',
  'error-503',
  'timeout',
  'stream-break',
] as const;

export type MockScenario = (typeof mockScenarios)[number];

export const MOCK_SCENARIO_HEADER = 'x-mock-scenario';

export function parseMockScenario(value: string | undefined): MockScenario | undefined {
  if (!value) return undefined;
  const v = value.trim().toLowerCase();
  return (mockScenarios as readonly string[]).includes(v) ? (v as MockScenario) : undefined;
}
