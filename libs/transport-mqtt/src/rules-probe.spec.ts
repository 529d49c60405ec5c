/** `probeDeviceRules`: which brokers `--mqtt auto` may bridge to. */
import { describe, expect, it } from 'vitest';
import { cleanupStack } from '@switchyard/testing';
import { startEmbeddedBroker } from './broker/broker.ts';
import { SHIPPED_ACL, sharedMosquitto, startMosquitto } from './mosquitto.test-helper.ts';
import { probeDeviceRules } from './server/rules-probe.ts';

describe('probeDeviceRules', () => {
  it('tells a broker with the device rules from one without', async () => {
    await using stack = cleanupStack();
    const open = await sharedMosquitto(); // this machine's: anonymous, no ACL
    expect(await probeDeviceRules(open)).toEqual({
      enforced: false,
      why: "an anonymous device could read switchyard/down/+ (every device's messages) and write to it",
    });
    const acl = stack.use(await startMosquitto({ aclFile: SHIPPED_ACL }));
    expect(await probeDeviceRules(acl.url)).toEqual({
      enforced: true,
      how: 'delivery refused', // Mosquitto grants the subscription, then delivers nothing
    });
    const embedded = await startEmbeddedBroker({ port: 0 });
    stack.defer(() => embedded.close());
    expect(await probeDeviceRules(embedded.url)).toEqual({
      enforced: true,
      how: 'subscription refused',
    });
  });
});
