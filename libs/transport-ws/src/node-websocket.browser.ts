/** Browsers have a WebSocket; this stands in for the Node loader so `ws` stays out of bundles. */
import type { WebSocketConstructor } from './client.ts';

export function loadWebSocket(): Promise<WebSocketConstructor> {
  return Promise.reject(new Error('this runtime has no WebSocket: pass options.WebSocket'));
}
