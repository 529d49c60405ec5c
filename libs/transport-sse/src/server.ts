/** Server half of the SSE + POST transport (Node): mount `sseServer()` with `serveTransports`. */
export {
  sseServer,
  type SseServerOptions,
  type SseServerHalf,
  type SseCluster,
  type SessionRequest,
  type SessionBody,
  type SessionReply,
} from './server/half.ts';
export { SseEvent, type SessionInfo, type CloseNotice } from './shared/wire.ts';
