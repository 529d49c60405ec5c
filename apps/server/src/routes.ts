/** The app's own HTTP routes, next to the transports: one line each in {@link appRoutes}. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { Hub } from '@switchyard/hub';
import { pathOf, replyText, type HttpServerHalf } from '@switchyard/http';
import { DEFAULT_DEMO_DIR, demoRoute, isDemoPath } from './demo-route.ts';

/** What the routes read. */
export interface RouteContext {
  readonly hub: Hub;
  readonly halves: readonly HttpServerHalf[];
  readonly metrics: Registry;
  readonly version: string;
  /** How connections authenticate: `none`, `jwt: …`. */
  readonly auth: string;
  /** The built demo (apps/demo), served at `/demo/`. @default dist/demo */
  readonly demoDir?: string;
}

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

/** `GET /`, `GET /healthz`, `GET /metrics`, `GET /demo/…`; anything else is 404. */
export function appRoutes(context: RouteContext): Handler {
  const routes: Readonly<Record<string, Handler>> = {
    '/': (_request, response) => index(response, context),
    '/healthz': (_request, response) => health(response, context),
    '/metrics': (_request, response) => metrics(response, context.metrics),
  };
  const demo = demoRoute(context.demoDir ?? DEFAULT_DEMO_DIR);
  return (request, response) => {
    const path = pathOf(request.url);
    if (isDemoPath(path) && (request.method === 'GET' || request.method === 'HEAD'))
      return demo(request, response);
    const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
    if (route && (request.method === 'GET' || request.method === 'HEAD'))
      return route(request, response);
    if (route) replyText(response, 405, `${request.method ?? ''} not allowed: GET ${path}`);
    else replyText(response, 404, `not found: ${request.method ?? 'GET'} ${path}`);
  };
}

function index(response: ServerResponse, { halves, version, auth: auth }: RouteContext): void {
  const lines = [
    `switchyard ${version}: rtc-signaller signalling.`,
    ...halves.map((half) => `- ${half.describe()}`),
    `- authentication: ${auth}`,
    '- GET /healthz, GET /metrics, GET /demo/ (a mesh call in the browser)',
  ];
  replyText(response, 200, lines.join('\n'));
}

function health(response: ServerResponse, { hub, halves, version, auth }: RouteContext): void {
  const transports = Object.fromEntries(halves.map((half) => [half.transport, half.connections]));
  response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  response.end(JSON.stringify({ status: 'ok', version, auth, ...hub.stats(), transports }));
}

function metrics(response: ServerResponse, registry: Registry): void {
  registry.metrics().then(
    (text) => {
      response.writeHead(200, { 'content-type': registry.contentType });
      response.end(text);
    },
    (error: unknown) => replyText(response, 500, `metrics failed: ${String(error)}`),
  );
}
