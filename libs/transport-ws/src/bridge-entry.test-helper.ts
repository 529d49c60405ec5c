/** Browser page entry for the Chromium conformance run: the ws client half, unmodified. */
import { installBridge } from '@switchyard/testing/bridge-page';
import { webSocketConnector } from './client.ts';

installBridge((url) => webSocketConnector(url));
