import { afterEach, describe, expect, it } from 'vitest';
import {
  ConnectRefusedError,
  ConnectTimeoutError,
  SignallingError,
  UnauthorizedError,
} from '@switchyard/protocol';
import { flushMicrotasks } from '@switchyard/test-kit';
import { OfflineQueueFullError, ReconnectStoppedError } from './errors.ts';
import { connected, leaveAll } from './fake-server.test-helper.ts';
import type { Signaller, SignallerError } from './types.ts';

afterEach(leaveAll);

function collectErrors(signaller: Signaller): SignallerError[] {
  const errors: SignallerError[] = [];
  signaller.on('error', (error) => errors.push(error));
  return errors;
}

describe('typed signaller errors', () => {
  it('reports an offline-queue overflow with the limit and the dropped frame', async () => {
    const { server, signaller } = await connected({ queueLimit: 2, reconnect: false });
    const errors = collectErrors(signaller);
    server.drop();
    signaller.send('/a', 1);
    signaller.send('/a', 2);
    signaller.send('/a', 3);
    expect(errors).toHaveLength(1);
    const [error] = errors;
    expect(error).toBeInstanceOf(OfflineQueueFullError);
    expect(error).toMatchObject({
      name: 'OfflineQueueFullError',
      code: 'offline-queue-full',
      limit: 2,
      dropped: '/a|ME|1',
    });
    await flushMicrotasks();
    expect(server.take()).toEqual(['/a|ME|2', '/a|ME|3']);
  });

  it.each([
    [4001, 'unauthorized'],
    [4003, 'forbidden'],
    [4009, 'id taken'],
  ])('stops reconnecting after close code %i and says why', async (closeCode, reason) => {
    const { server, signaller, clock } = await connected();
    const errors = collectErrors(signaller);
    server.drop(closeCode, reason);
    await clock.advanceAsync(1000);
    expect(server.attempts).toBe(1);
    expect(clock.pending).toBe(0);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ReconnectStoppedError);
    expect(errors[0]).toMatchObject({ code: 'reconnect-stopped', closeCode, reason });
    expect((errors[0] as ReconnectStoppedError).refusal).toBeUndefined();
  });

  it('stops reconnecting after an unauthorized /error, naming it as the refusal', async () => {
    const { server, signaller, clock } = await connected();
    const errors = collectErrors(signaller);
    server.push('/error|{"code":"unauthorized","message":"bad token"}');
    server.drop(1006);
    await clock.advanceAsync(1000);
    expect(server.attempts).toBe(1);
    expect(errors.map((error) => error.constructor)).toEqual([
      UnauthorizedError,
      ReconnectStoppedError,
    ]);
    expect(errors[0]).toBeInstanceOf(SignallingError); // the typed error is still a SignallingError
    expect(errors[0]).toMatchObject({ code: 'unauthorized', name: 'UnauthorizedError' });
    expect(errors[1]).toMatchObject({ code: 'reconnect-stopped', refusal: 'unauthorized' });
    expect((errors[1] as ReconnectStoppedError).closeCode).toBeUndefined();
  });

  it('forgets a refusal once a new connection opens', async () => {
    const { server, signaller, clock } = await connected();
    server.push('/error|{"code":"id-taken","message":"taken over"}');
    server.drop(1006);
    await signaller.connect();
    const errors = collectErrors(signaller);
    server.drop(1006);
    await clock.advanceAsync(5);
    expect(errors).toEqual([]);
    expect(server.connections).toBe(3);
  });

  it('keeps the message texts that other packages match', async () => {
    expect(new OfflineQueueFullError(1000, '/a|ME|1').message).toBe(
      'offline queue full (1000): dropped the oldest message',
    );
    expect(new ReconnectStoppedError({ closeCode: 4001, reason: 'unauthorized' }).message).toBe(
      'server closed the connection (4001 unauthorized); not reconnecting',
    );
    expect(new ReconnectStoppedError({ closeCode: 4009 }).message).toBe(
      'server closed the connection (4009); not reconnecting',
    );
    expect(new ReconnectStoppedError({ refusal: 'id-taken' }).message).toBe(
      'server closed the connection (id-taken); not reconnecting',
    );
    const both = new ReconnectStoppedError({
      closeCode: 4001,
      reason: 'unauthorized',
      refusal: 'unauthorized',
    });
    expect([both.message, both.refusal]).toEqual([
      'server closed the connection (4001 unauthorized); not reconnecting',
      'unauthorized',
    ]);
  });

  it('emits connector failures as they were rejected, unwrapped, and keeps retrying', async () => {
    const { server, signaller, clock } = await connected();
    const errors = collectErrors(signaller);
    const timeout = new ConnectTimeoutError('fake', 100);
    const refused = new ConnectRefusedError('fake', 'ECONNREFUSED');
    server.refuse = timeout;
    server.drop();
    await clock.advanceAsync(5);
    server.refuse = refused;
    await clock.advanceAsync(5);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toBe(timeout);
    expect(errors[1]).toBe(refused);
    server.refuse = false;
    await clock.advanceAsync(5);
    expect(signaller.readyState).toBe('connected');
  });

  it('aborts an opening connector on leave() and does not report the abort', async () => {
    const { server, signaller, clock } = await connected();
    const errors = collectErrors(signaller);
    server.hang = true;
    server.drop();
    await clock.advanceAsync(5);
    expect(signaller.readyState).toBe('connecting');
    signaller.leave();
    await flushMicrotasks();
    const signal = server.signals.at(-1)!;
    expect(signal.aborted).toBe(true);
    expect((signal.reason as Error).name).toBe('AbortError');
    expect(errors).toEqual([]);
    expect(signaller.readyState).toBe('closed');
  });
});
