/**
 * Browser page entry for the Chromium conformance runs: the Socket.IO client half, unmodified.
 * A `transports` query parameter on the URL (test-only) picks the engine.io transports.
 */
import { installBridge } from '@switchyard/testing/bridge-page';
import { socketIoConnector, type EngineTransport } from './client.ts';

installBridge((url) => {
  const transports = new URL(url).searchParams.get('transports');
  return socketIoConnector(
    url,
    transports ? { transports: transports.split(',') as EngineTransport[] } : {},
  );
});
