/**
 * A device with no Switchyard code at all: the `mosquitto_sub` and `mosquitto_pub` command-line
 * clients (Debian mosquitto-clients) against the documented topics on Mosquitto, in one room
 * with a WebSocket peer.
 */
import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { cleanupStack, nextEvent, waitUntil } from '@switchyard/testing';
import { discardMqttSession } from './shared/session.ts';
import { startStack } from './stack.test-helper.ts';

describe('a device made of mosquitto-clients', () => {
  it('mosquitto_sub listens, mosquitto_pub talks, and the Last Will of mosquitto_sub becomes /leave', async () => {
    await using stack = await startStack({ broker: 'mosquitto', hub: { graceMs: 300 } });
    await using scope = cleanupStack();
    const { hostname, port } = new URL(stack.brokerUrl);
    const broker = ['-h', hostname, '-p', port, '-V', 'mqttv311'];
    const id = `cli-${randomUUID().slice(0, 8)}`;
    const topic = (kind: string) => `${stack.prefix}/${kind}/${id}`;
    const peer = await stack.join(stack.ws, 'lab');

    // the device's ears: a persistent session (-c, QoS 1) with a Last Will; -d prints the SUBACK;
    // stdbuf keeps its output line-buffered on a pipe (stdbuf execs, so the PID is mosquitto_sub's)
    const sub = spawn('stdbuf', [
      '-oL',
      'mosquitto_sub',
      ...broker,
      ...['-i', id, '-c', '-q', '1', '-d', '-t', topic('down')],
      ...['--will-topic', topic('status'), '--will-payload', 'offline', '--will-qos', '1'],
    ]);
    scope.defer(() => discardMqttSession(stack.brokerUrl, id));
    const exited = new Promise((resolve) => sub.once('exit', resolve));
    scope.defer(async () => {
      if (sub.exitCode === null && sub.signalCode === null) process.kill(sub.pid!, 'SIGKILL');
      await exited;
    });
    const lines: string[] = [];
    let partial = '';
    sub.stdout.on('data', (chunk: Buffer) => {
      const text = partial + chunk.toString();
      const complete = text.split('\n');
      partial = complete.pop()!;
      lines.push(...complete);
    });
    await waitUntil(() => lines.some((line) => line.includes('received SUBACK')), 'the SUBACK');
    // its mouth: one mosquitto_pub per message (without the ACL, any client id may publish)
    const say = (message: string) =>
      promisify(execFile)('mosquitto_pub', [
        ...broker,
        ...['-i', `${id}-pub`, '-q', '1', '-t', topic('up'), '-m', message],
      ]);
    const heard = (line: string) => waitUntil(() => lines.includes(line), line);

    const seen = nextEvent(peer, 'peer:announce');
    await say(`/announce|${id}|{"id":"${id}","room":"lab","shell":true}`);
    await heard('/roominfo|{"memberCount":2}');
    expect((await seen)[0]).toMatchObject({ id, shell: true });

    const reading = nextEvent(peer, 'message:reading');
    await say(`/to|${String(peer.id)}|/reading|${id}|{"celsius":19}`);
    expect((await reading)[0]).toEqual({ celsius: 19 });
    peer.to(id).send('/ack', { ok: true });
    await heard(`/to|${id}|/ack|${String(peer.id)}|{"ok":true}`);

    const left = nextEvent(peer, 'peer:leave');
    process.kill(sub.pid!, 'SIGKILL');
    expect((await left)[0]).toBe(id);
    expect(stack.hub.roomMembers('lab')).toEqual([String(peer.id)]);
  });
});
