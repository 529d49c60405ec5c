/** Browser page entry for the Chromium conformance run: the MQTT client half, unmodified. */
import { installBridge } from '@switchyard/testing/bridge-page';
import { mqttConnector } from './client.ts';

installBridge((url) => mqttConnector(url));
