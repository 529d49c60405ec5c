/**
 * Every device shares the bridge's one publish window: a busy room must not make a quiet device
 * wait behind its whole backlog (round-robin per device, publish-window.ts).
 */
import { describe, expect, it } from 'vitest';
import { createHub } from '@switchyard/hub';
import { cleanupStack, rawClient, serveHalves } from '@switchyard/testing';
import { embeddedMqtt } from './broker/half.ts';
import { mqttConnector } from './client/connector.ts';

describe('bridge fairness', () => {
  it("a quiet device's message overtakes a busy device's backlog", async () => {
    await using stack = cleanupStack();
    const hub = createHub({ rateLimit: false });
    stack.defer(() => hub.close());
    const half = embeddedMqtt({ port: 0 });
    stack.use(await serveHalves(hub.accept, [half]));
    const url = half.broker!.url;
    const busy = stack.use(await rawClient(mqttConnector(url), ['BUSY', 'loud']));
    const quiet = stack.use(await rawClient(mqttConnector(url), ['QUIET', 'calm']));
    const loud = stack.use(await rawClient(mqttConnector(url), ['SENDER', 'loud']));
    const calm = stack.use(await rawClient(mqttConnector(url), ['OTHER', 'calm']));
    const count = 400;
    for (let i = 0; i < count; i++) loud.say(`/to|BUSY|/n|SENDER|${i}`);
    // the backlog is at the bridge before the quiet room says anything
    const received = () => busy.received.filter((m) => m.startsWith('/to|BUSY|/n|')).length;
    await busy.next((m) => m.startsWith('/to|BUSY|/n|'));
    calm.say('/to|QUIET|/hello|OTHER');
    await quiet.next((m) => m === '/to|QUIET|/hello|OTHER');
    const busyAtThatMoment = received();
    await busy.next((m) => m === `/to|BUSY|/n|SENDER|${count - 1}`, 20_000);
    // one shared FIFO would deliver the whole backlog first
    expect(busyAtThatMoment).toBeLessThan(count / 2);
    expect(busy.received.filter((m) => m.startsWith('/to|BUSY|/n|'))).toEqual(
      Array.from({ length: count }, (_, i) => `/to|BUSY|/n|SENDER|${i}`),
    );
  });
});
