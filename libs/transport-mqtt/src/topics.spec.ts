import { describe, expect, it } from 'vitest';
import { brokerRules } from './broker/rules.ts';
import {
  closeFrame,
  deviceTopics,
  isValidClientId,
  parseCloseFrame,
  parseDeviceTopic,
} from './shared/topics.ts';

describe('topic layout', () => {
  it('names the three topics of a device under the prefix', () => {
    expect(deviceTopics('switchyard', 'sensor-1')).toEqual({
      up: 'switchyard/up/sensor-1',
      down: 'switchyard/down/sensor-1',
      status: 'switchyard/status/sensor-1',
    });
    expect(parseDeviceTopic('a/b', 'a/b/up/x')).toEqual({ kind: 'up', clientId: 'x' });
    expect(parseDeviceTopic('a/b', 'a/b/status/x')).toEqual({ kind: 'status', clientId: 'x' });
  });

  it('recognises only one level of a valid client id under a known kind', () => {
    for (const topic of [
      'switchyardx/up/a',
      'switchyard/up/a/b',
      'switchyard/up/+',
      'switchyard/up/#',
      'switchyard/sideways/a',
      'switchyard/up/',
      'other/up/a',
    ]) {
      expect([topic, parseDeviceTopic('switchyard', topic)]).toEqual([topic, undefined]);
    }
    expect(isValidClientId('sy-abc_1.2')).toBe(true);
    for (const id of ['', 'a/b', 'a+', '#', 'a\u0000b', 'x'.repeat(257)])
      expect(isValidClientId(id)).toBe(false);
  });

  it('close frames carry a code and a reason, and never look like protocol messages', () => {
    expect(closeFrame(4009, 'id taken over')).toBe('close|4009|id taken over');
    expect(parseCloseFrame('close|4009|id taken over')).toEqual({
      code: 4009,
      reason: 'id taken over',
    });
    expect(parseCloseFrame('close|1001')).toEqual({ code: 1001, reason: '' });
    expect(parseCloseFrame('close|x|y')).toBeUndefined();
    expect(parseCloseFrame('/close|1000|x')).toBeUndefined();
  });
});

describe('embedded broker rules (mosquitto/acl.conf)', () => {
  const rules = brokerRules('switchyard');
  const device = { bridge: false, clientId: 'd1' } as const;
  const bridge = { bridge: true } as const;

  it('a device writes its own up and status topics and reads its own down topic, nothing else', () => {
    expect(rules.mayPublish(device, 'switchyard/up/d1')).toBe(true);
    expect(rules.mayPublish(device, 'switchyard/status/d1')).toBe(true);
    for (const topic of [
      'switchyard/up/d2',
      'switchyard/status/d2',
      'switchyard/down/d1',
      'elsewhere',
      '$SYS/x',
    ]) {
      expect([topic, rules.mayPublish(device, topic)]).toEqual([topic, false]);
    }
    expect(rules.maySubscribe(device, 'switchyard/down/d1')).toBe(true);
    for (const filter of [
      'switchyard/down/d2',
      'switchyard/down/+',
      'switchyard/#',
      '#',
      'switchyard/up/d1',
    ]) {
      expect([filter, rules.maySubscribe(device, filter)]).toEqual([filter, false]);
    }
    expect(rules.mayWill('d1', 'switchyard/status/d1')).toBe(true);
    expect(rules.mayWill('d1', 'switchyard/status/d2')).toBe(false);
  });

  it('the bridge reads every up and status topic and writes every down topic', () => {
    expect(rules.maySubscribe(bridge, 'switchyard/up/+')).toBe(true);
    expect(rules.maySubscribe(bridge, 'switchyard/status/+')).toBe(true);
    expect(rules.maySubscribe(bridge, '#')).toBe(false);
    expect(rules.mayPublish(bridge, 'switchyard/down/d1')).toBe(true);
    expect(rules.mayPublish(bridge, 'switchyard/up/d1')).toBe(false);
  });
});
