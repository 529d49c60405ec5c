import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LogFields, LogLevel } from '@switchyard/protocol';
import { flushMicrotasks } from '@switchyard/test-kit';
import { connected, fakeServer, leaveAll, track } from './fake-server.test-helper.ts';
import { createSignaller } from './signaller.ts';

afterEach(leaveAll);

describe('injected clock and logger', () => {
  it('fires the announce debounce exactly announceDelay after the last announce()', async () => {
    const { server, signaller, clock } = await connected({ announceDelay: 50 });
    signaller.announce({ room: 'r' });
    clock.advance(30);
    signaller.announce({ name: 'a' });
    clock.advance(49);
    expect(server.take()).toEqual([]);
    clock.advance(1);
    expect(server.take()).toEqual([expect.stringMatching(/^\/announce\|ME\|.*"name":"a"/)]);
    expect(clock.pending).toBe(0);
  });

  it('waits exactly the injected reconnect delay before each attempt', async () => {
    const delays = [100, 250, 400];
    const { server, signaller, clock } = await connected({
      reconnectDelay: (attempt) => delays[attempt]!,
    });
    server.refuse = true;
    server.drop();
    await clock.advanceAsync(99);
    expect(server.attempts).toBe(1);
    await clock.advanceAsync(1);
    expect([server.attempts, clock.now()]).toEqual([2, 100]);
    await clock.advanceAsync(249);
    expect(server.attempts).toBe(2);
    await clock.advanceAsync(1);
    expect(server.attempts).toBe(3);
    server.refuse = false;
    await clock.advanceAsync(399);
    expect([server.attempts, signaller.readyState]).toEqual([3, 'disconnected']);
    await clock.advanceAsync(1);
    expect([server.attempts, signaller.readyState]).toEqual([4, 'connected']);
    expect(clock.pending).toBe(0);
  });

  it('restarts the backoff at attempt 0 once a connection opens', async () => {
    const attempts: number[] = [];
    const { server, clock } = await connected({
      reconnectDelay: (attempt) => (attempts.push(attempt), 10),
    });
    server.refuse = true;
    server.drop();
    await clock.advanceAsync(20);
    server.refuse = false;
    await clock.advanceAsync(10);
    server.drop();
    await clock.advanceAsync(10);
    expect(attempts).toEqual([0, 1, 2, 0]);
    expect(server.connections).toBe(3);
  });

  it('runs on the system clock when no services are given (two-argument call)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const server = fakeServer();
      const signaller = track(
        createSignaller(server.connector, { id: 'ME', metadata: 'bare', reconnectDelay: () => 7 }),
      );
      await flushMicrotasks();
      signaller.announce({ room: 'r' });
      vi.advanceTimersByTime(9);
      expect(server.take()).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(server.take()).toHaveLength(1);
      server.drop();
      await vi.advanceTimersByTimeAsync(6);
      expect(server.connections).toBe(1);
      await vi.advanceTimersByTimeAsync(1);
      expect(server.connections).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('logs the lifecycle and dropped messages to the injected logger', async () => {
    const lines: [LogLevel, string, LogFields | undefined][] = [];
    const { server, signaller, clock } = await connected(
      { queueLimit: 1 },
      { log: (level, message, fields) => void lines.push([level, message, fields]) },
    );
    server.drop();
    signaller.send('/a', 1);
    signaller.send('/a', 2);
    await clock.advanceAsync(5);
    expect(lines).toEqual(
      expect.arrayContaining([
        ['debug', 'state', { from: 'connecting', to: 'connected' }],
        ['debug', 'reconnecting', { attempt: 0, delayMs: 5 }],
        ['warn', 'offline queue full (1): dropped the oldest message', { limit: 1 }],
      ]),
    );
  });
});
