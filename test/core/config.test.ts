import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('configuration from the environment', () => {
  it('has working defaults for the embedded database', () => {
    expect(loadConfig({})).toMatchObject({ PORT: 8080, HOST: '127.0.0.1', DATA_DIR: './data', LOG_LEVEL: 'info' });
    expect(loadConfig({}).DATABASE_URL).toBeUndefined();
  });

  it('stops on a wrong value with one line naming the variable', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/^PORT: /);
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(/^LOG_LEVEL: /);
    expect(() => loadConfig({ REDIS_URL: 'localhost:6379' })).toThrow(/^REDIS_URL: must be a redis:\/\//);
  });

  it('keeps the upstream timeouts inside the request deadline, so a hanging key is cut while the request can fail over', () => {
    expect(loadConfig({})).toMatchObject({ REQUEST_DEADLINE_SECONDS: 600, UPSTREAM_HEADERS_TIMEOUT_SECONDS: 300, UPSTREAM_BODY_TIMEOUT_SECONDS: 300 });
    expect(loadConfig({ UPSTREAM_HEADERS_TIMEOUT_SECONDS: '0.5' }).UPSTREAM_HEADERS_TIMEOUT_SECONDS).toBe(0.5);
    expect(() => loadConfig({ UPSTREAM_HEADERS_TIMEOUT_SECONDS: '600' })).toThrow(/^UPSTREAM_HEADERS_TIMEOUT_SECONDS: must be less than REQUEST_DEADLINE_SECONDS \(600\)/);
    expect(() => loadConfig({ REQUEST_DEADLINE_SECONDS: '60' })).toThrow(/^UPSTREAM_HEADERS_TIMEOUT_SECONDS: /);
    expect(() => loadConfig({ REQUEST_DEADLINE_SECONDS: '60', UPSTREAM_HEADERS_TIMEOUT_SECONDS: '30' })).toThrow(/^UPSTREAM_BODY_TIMEOUT_SECONDS: /);
    expect(() => loadConfig({ UPSTREAM_BODY_TIMEOUT_SECONDS: '0' })).toThrow(/^UPSTREAM_BODY_TIMEOUT_SECONDS: /);
  });

  it('requires ENCRYPTION_KEY with DATABASE_URL and never echoes secrets', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgres://u@h/db' })).toThrow(/^ENCRYPTION_KEY: required/);
    try {
      loadConfig({ ADMIN_TOKEN: 'short-secret' });
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toMatch(/^ADMIN_TOKEN: /);
      expect((e as Error).message).not.toContain('short-secret');
    }
  });
});
