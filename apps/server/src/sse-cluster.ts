/**
 * SSE without sticky sessions (docs/cluster.md, "SSE"): a POST or DELETE that reaches a node
 * other than the one holding its session's stream is read there and asked of the holder over
 * the cluster bus, which acts on it as if it had arrived itself and returns the HTTP answer.
 */
import type { ClusterNode } from '@switchyard/cluster';
import type {
  SessionReply,
  SessionRequest,
  SseCluster,
  SseServerHalf,
} from '@switchyard/transport-sse/server';

const KIND = 'sse';

/**
 * The SSE half's view of the cluster; `half` is read when a request comes in (the half is
 * built after this). Call once per node.
 */
export function sseOverCluster(
  node: ClusterNode,
  half: () => SseServerHalf | undefined,
): SseCluster {
  node.serve(KIND, (arg) => {
    const [session, request] = JSON.parse(arg) as [string, SessionRequest];
    const reply: SessionReply = half()?.deliver(session, request) ?? {
      status: 404,
      text: 'this node serves no SSE',
    };
    return JSON.stringify(reply);
  });
  return {
    node: node.node,
    async relay(to, session, request) {
      const answer = await node.ask(to, KIND, JSON.stringify([session, request]));
      return answer ? (JSON.parse(answer) as SessionReply) : undefined;
    },
  };
}
