/**
 * Client half of the SSE + POST transport (browser-safe): `sseConnector` opens a session over a
 * native `EventSource` (the `eventsource` package in Node) and posts with `fetch`.
 */
export {
  sseConnector,
  streamUrl,
  type SseConnectorOptions,
  type EventSourceLike,
  type EventSourceConstructor,
  type FetchFunction,
} from './client/connector.ts';
export { SseEvent, type SessionInfo, type CloseNotice } from './shared/wire.ts';
