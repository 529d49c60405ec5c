/** Server half of the SSE + POST transport (Node): mount `sseServer()` with `serveTransports`. */
export { sseServer, type SseServerOptions, type SseServerHalf } from './server/half.ts';
export { SseEvent, type SessionInfo, type CloseNotice } from './shared/wire.ts';
