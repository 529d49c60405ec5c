import { describe, expect, it } from 'vitest';
import { createEmitter } from '@switchyard/protocol';
import { cleanupStack } from './cleanup.ts';
import { ManualClock } from './clock.ts';
import { listenHttp } from './http.ts';
import { inbox } from './inbox.ts';
import { nextCall } from './wait.ts';

describe('test kit', () => {
  it('ManualClock fires due timers in time order, ties in the order they were set', () => {
    const clock = new ManualClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b'), 20);
    clock.setTimeout(() => fired.push('a'), 10);
    clock.setTimeout(() => fired.push('b2'), 20);
    const cleared = clock.setTimeout(() => fired.push('never'), 5);
    clock.clearTimeout(cleared);
    clock.advance(15);
    expect([fired, clock.now()]).toEqual([['a'], 15]);
    clock.advance(5);
    expect(fired).toEqual(['a', 'b', 'b2']);
    expect(clock.pending).toBe(0);
  });

  it('advanceAsync lets a timer’s async work schedule the next timer', async () => {
    const clock = new ManualClock();
    const fired: number[] = [];
    const tick = () =>
      clock.setTimeout(() => {
        fired.push(clock.now());
        void Promise.resolve().then(tick);
      }, 10);
    tick();
    await clock.advanceAsync(35);
    expect(fired).toEqual([10, 20, 30]);
  });

  it('inbox: next skips past what fails the filter; take returns the rest', async () => {
    const box = inbox<number>('a number');
    [1, 2, 3, 4].forEach((n) => box.push(n));
    expect(await box.next((n) => n % 2 === 0)).toBe(2);
    expect(box.take()).toEqual([3, 4]);
    await expect(box.next(() => true, 20)).rejects.toThrow('waiting for a number');
  });

  it('nextCall reads any listener; cleanups run last first; listenHttp closes on dispose', async () => {
    const events = createEmitter<{ ping: (n: number) => void }>();
    const second = nextCall<[number]>(
      (listener) => events.on('ping', listener),
      'ping',
      (n) => n > 1,
    );
    events.emit('ping', 1);
    events.emit('ping', 2);
    expect(await second).toEqual([2]);
    const order: string[] = [];
    let port = 0;
    {
      await using stack = cleanupStack();
      stack.defer(() => order.push('first deferred'));
      const http = stack.use(await listenHttp((_request, response) => response.end('hi')));
      port = http.port;
      stack.defer(() => order.push('last deferred'));
      expect(await (await fetch(http.url('/'))).text()).toBe('hi');
    }
    expect(order).toEqual(['last deferred', 'first deferred']);
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
  });
});
