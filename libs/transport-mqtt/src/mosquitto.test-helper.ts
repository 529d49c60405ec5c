/**
 * Mosquitto for tests: the machine's own at 127.0.0.1:1883 (shared with other runs, so every
 * test takes a prefix and a bridge id of its own), or a private process for tests that need
 * their own config (the shipped ACL) or restart the broker (`startMosquitto`, from the test kit).
 */
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { startMosquitto, type Mosquitto } from '@switchyard/testing';

export { startMosquitto, type Mosquitto, type MosquittoOptions } from '@switchyard/testing';

/** The ACL template this package ships. */
export const SHIPPED_ACL = fileURLToPath(new URL('../mosquitto/acl.conf', import.meta.url));

/** Mosquitto as installed on this machine. */
export const SYSTEM_MOSQUITTO = 'mqtt://127.0.0.1:1883';

function answers(url: string, timeoutMs = 500): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

let shared: Promise<string> | undefined;

/**
 * The URL of a Mosquitto every test of this file may share: the system one when it answers,
 * otherwise a private one started once (and stopped, by its PID, when the test process exits).
 */
export function sharedMosquitto(): Promise<string> {
  return (shared ??= (async () => {
    if (await answers(SYSTEM_MOSQUITTO)) return SYSTEM_MOSQUITTO;
    const own: Mosquitto = await startMosquitto();
    process.once('exit', () => void own.stop());
    return own.url;
  })());
}

/** A topic prefix and a bridge client id no other test (or run) on a shared broker uses. */
export function uniqueNames(): { readonly prefix: string; readonly bridgeClientId: string } {
  const id = randomUUID();
  return { prefix: `switchyard-test-${id}`, bridgeClientId: `switchyard-bridge-${id}` };
}
