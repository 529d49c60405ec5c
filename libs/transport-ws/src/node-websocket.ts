/**
 * Where Node finds a WebSocket when the runtime has none (Node < 22): the optional peer `ws`.
 * Browsers get node-websocket.browser.ts instead (package.json `imports`, condition `browser`),
 * so `ws` never reaches a browser bundle.
 */
import type { WebSocketConstructor } from './client.ts';

export async function loadWebSocket(): Promise<WebSocketConstructor> {
  try {
    const { WebSocket } = await import('ws');
    return WebSocket as unknown as WebSocketConstructor;
  } catch (error) {
    throw new Error(
      'this runtime has no WebSocket: install the `ws` package (npm install ws) or pass options.WebSocket',
      { cause: error },
    );
  }
}
