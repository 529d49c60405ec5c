import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './config.ts';

describe('parseConfig', () => {
  it('defaults to 127.0.0.1:3000 with a 3 s grace window', () => {
    expect(parseConfig([], {})).toEqual({
      host: '127.0.0.1',
      port: 3000,
      graceMs: 3000,
      logLevel: 'info',
      rateLimit: { perSecond: 100, burst: 200 },
      transports: ['ws', 'socket.io', 'sse', 'mqtt'],
      mqtt: 'auto',
      mqttPort: 1883,
    });
    expect(parseConfig(['--mqtt', 'mqtt://127.0.0.1:1884'], {}).mqtt).toBe('mqtt://127.0.0.1:1884');
    expect(() => parseConfig(['--mqtt', 'sometimes'], {})).toThrow(
      /mqtt must be auto, embedded, off/,
    );
    expect(parseConfig(['--rate-limit', '0', '--rate-burst', '5'], {}).rateLimit).toEqual({
      perSecond: 0,
      burst: 5,
    });
  });

  it('--transports picks the transports, with an env twin; unknown names are refused', () => {
    expect(parseConfig(['--transports', 'sse, ws,sse'], {}).transports).toEqual(['sse', 'ws']);
    expect(parseConfig([], { SWITCHYARD_TRANSPORTS: 'mqtt' }).transports).toEqual(['mqtt']);
    expect(
      parseConfig(['--transports', 'ws'], { SWITCHYARD_TRANSPORTS: 'mqtt' }).transports,
    ).toEqual(['ws']);
    expect(() => parseConfig(['--transports', 'ws,carrier-pigeon'], {})).toThrow(
      /transports must be a comma-separated list of ws, socket.io, sse, mqtt/,
    );
    expect(() => parseConfig(['--transports', ' , '], {})).toThrow(/transports must be/);
  });

  it('treats an empty variable as unset and names a bad one', () => {
    expect(parseConfig([], { PORT: '', SWITCHYARD_PORT: '' }).port).toBe(3000);
    expect(parseConfig([], { SWITCHYARD_PORT: '', PORT: '4000' }).port).toBe(4000);
    expect(() => parseConfig([], { SWITCHYARD_PORT: 'http' })).toThrow(
      new ConfigError('SWITCHYARD_PORT: port must be an integer from 0 to 65535, got "http"'),
    );
    expect(() => parseConfig([], { SWITCHYARD_LOG_LEVEL: 'verbose' })).toThrow(
      /^SWITCHYARD_LOG_LEVEL: log level must be one of trace, debug/,
    );
    expect(parseConfig([], { SWITCHYARD_LOG_LEVEL: 'warn' }).logLevel).toBe('warn');
  });

  it('takes flags over SWITCHYARD_* over PORT/HOST', () => {
    expect(parseConfig([], { PORT: '4000', HOST: '0.0.0.0' })).toMatchObject({
      port: 4000,
      host: '0.0.0.0',
    });
    expect(parseConfig([], { PORT: '4000', SWITCHYARD_PORT: '5000' }).port).toBe(5000);
    expect(parseConfig(['--port', '6000'], { SWITCHYARD_PORT: '5000' }).port).toBe(6000);
    expect(
      parseConfig(['--grace-ms', '0', '--allowed-origins', 'http://a.test, http://b.test'], {}),
    ).toMatchObject({
      graceMs: 0,
      allowedOrigins: ['http://a.test', 'http://b.test'],
    });
  });

  it('refuses bad values with a message that names the option', () => {
    expect(() => parseConfig(['--port', '70000'], {})).toThrow(
      /port must be an integer from 0 to 65535/,
    );
    expect(() => parseConfig([], { SWITCHYARD_PORT: 'x' })).toThrow(/port must be an integer/);
    expect(() => parseConfig(['--log-level', 'loud'], {})).toThrow();
  });

  it('takes one JWT key source with its claims, from flags or env, and refuses two', () => {
    expect(parseConfig([], {}).jwt).toBeUndefined();
    expect(
      parseConfig(['--jwt-audience', 'sy'], { SWITCHYARD_JWT_SECRET: 's'.repeat(32) }).jwt,
    ).toEqual({ secret: 's'.repeat(32), audience: 'sy', clockToleranceSeconds: 5 });
    expect(
      parseConfig(['--jwt-jwks', 'https://idp.test/jwks.json', '--jwt-clock-tolerance', '0'], {})
        .jwt,
    ).toEqual({ jwks: 'https://idp.test/jwks.json', clockToleranceSeconds: 0 });
    expect(() =>
      parseConfig(['--jwt-public-key', 'k.pem'], { SWITCHYARD_JWT_SECRET: 's'.repeat(32) }),
    ).toThrow(/one of --jwt-secret, --jwt-public-key and --jwt-jwks/);
    expect(() => parseConfig(['--jwt-issuer', 'me'], {})).toThrow(/need a key/);
  });
});
