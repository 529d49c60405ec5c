import { describeConformance, describePipeContract } from '@switchyard/testing';
import { embeddedSetup, mosquittoSetup, RAW_KEEPALIVE_SECONDS } from './setup.test-helper.ts';

const unsupported = {
  slowConsumer:
    'the broker acknowledges the bridge whether or not the device reads: its queue at the broker is invisible to the bridge',
};
// a killed device is seen at once (its TCP stream ends); a silent one 1.5 × keepalive later
const detectionMs = 1.5 * RAW_KEEPALIVE_SECONDS * 1000;

describeConformance('mqtt, embedded aedes broker', embeddedSetup());
describePipeContract({
  name: 'mqtt, embedded aedes broker',
  setup: embeddedSetup(),
  unsupported,
  detectionMs,
});

describeConformance('mqtt, Mosquitto', mosquittoSetup());
describePipeContract({
  name: 'mqtt, Mosquitto',
  setup: mosquittoSetup(),
  unsupported,
  detectionMs,
});
