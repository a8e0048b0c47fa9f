/** A protobuf Duration as JSON (`"30s"`, `"1.5s"`) in milliseconds. */
export function parseDurationMs(value: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)s$/.exec(value.trim());
  if (!match) return undefined;
  return Math.round(Number(match[1]) * 1000);
}
