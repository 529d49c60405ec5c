/** Browser page entry for the Chromium runs: the SSE client half, unmodified (native EventSource). */
import { installBridge } from '@switchyard/testing/bridge-page';
import { sseConnector } from './client.ts';

installBridge((url) => sseConnector(url));
