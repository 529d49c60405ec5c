import { describe, expect, it } from 'vitest';
import { openWithin } from './connect.ts';
import { ConnectTimeoutError } from './errors.ts';

describe('openWithin', () => {
  it('resolves once and ignores later settlements', async () => {
    let teardowns = 0;
    const opened = openWithin<string>({ target: 't', timeoutMs: 1000 }, (attempt) => {
      attempt.resolve('first');
      attempt.resolve('second');
      attempt.reject(new Error('late'));
      return () => (teardowns += 1);
    });
    await expect(opened).resolves.toBe('first');
    expect(teardowns).toBe(0);
  });

  it('times out with a ConnectTimeoutError named TimeoutError and tears the attempt down', async () => {
    let teardowns = 0;
    const opened = openWithin({ target: 'ws://x', timeoutMs: 20 }, () => () => (teardowns += 1));
    const error = await opened.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConnectTimeoutError);
    expect(error).toMatchObject({ name: 'TimeoutError', target: 'ws://x', timeoutMs: 20 });
    expect(teardowns).toBe(1);
  });

  it('rejects with the signal reason: an AbortError when aborted without one', async () => {
    const controller = new AbortController();
    let teardowns = 0;
    const opened = openWithin({ target: 't', timeoutMs: 1000, signal: controller.signal }, () => {
      return () => (teardowns += 1);
    });
    controller.abort();
    await expect(opened).rejects.toMatchObject({ name: 'AbortError' });
    expect(teardowns).toBe(1);
    const already = AbortSignal.abort(new Error('custom'));
    await expect(
      openWithin({ target: 't', timeoutMs: 1000, signal: already }, () => undefined),
    ).rejects.toThrow('custom');
  });

  it('tears down an attempt that failed before returning its teardown', async () => {
    let teardowns = 0;
    const opened = openWithin({ target: 't', timeoutMs: 1000 }, (attempt) => {
      attempt.reject(new Error('refused at once'));
      return () => (teardowns += 1);
    });
    await expect(opened).rejects.toThrow('refused at once');
    expect(teardowns).toBe(1);
  });
});
