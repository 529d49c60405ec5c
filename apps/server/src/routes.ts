/** The app's own HTTP routes, next to the transports: one line each in {@link appRoutes}. */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import { pathOf, replyText } from '@switchyard/http';
import { DEFAULT_DEMO_DIR, demoRoute, isDemoPath, PAGE_HEADERS } from './demo-route.ts';
import {
  connectionsPerTransport,
  statusDocument,
  statusText,
  type StatusSource,
} from './status.ts';

/** What the routes read. */
export interface RouteContext extends StatusSource {
  readonly metrics: Registry;
  /** The built browser pages (apps/demo): the demo at `/demo/`, the status page. @default dist/demo */
  readonly demoDir?: string;
  /** In a cluster: this node, the live nodes it sees, whether its bus is up. */
  readonly cluster?: () => {
    readonly node: string;
    readonly nodes: readonly string[];
    readonly bus: 'up' | 'down';
  };
}

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * `GET /` (the status page in a browser, plain text otherwise), `GET /status.json`,
 * `GET /healthz`, `GET /metrics`, `GET /demo/…`; anything else is 404.
 */
export function appRoutes(context: RouteContext): Handler {
  const pages = context.demoDir ?? DEFAULT_DEMO_DIR;
  const routes: Readonly<Record<string, Handler>> = {
    '/': (request, response) =>
      wantsHtml(request)
        ? statusPage(request, response, context, pages)
        : index(request, response, context),
    '/status.json': (request, response) => status(request, response, context),
    '/healthz': (_request, response) => health(response, context),
    '/metrics': (_request, response) => metrics(response, context.metrics),
  };
  const demo = demoRoute(pages);
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

/** Browsers ask for HTML first; curl sends `*\/*` and gets text. */
function wantsHtml(request: IncomingMessage): boolean {
  return /(^|,)\s*text\/html\b/i.test(request.headers.accept ?? '');
}

function index(
  request: IncomingMessage,
  response: ServerResponse,
  context: RouteContext,
  note?: string,
): void {
  const served = context.halves.map((half) => half.describe());
  const text = statusText(statusDocument(context, request), served);
  replyText(response, 200, note === undefined ? text : `${text}\n\n${note}`);
}

function status(request: IncomingMessage, response: ServerResponse, context: RouteContext): void {
  response.writeHead(200, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    // a page of another origin must not read room names through a visitor's loopback browser
    'cross-origin-resource-policy': 'same-origin',
    vary: 'authorization',
  });
  response.end(
    request.method === 'HEAD' ? undefined : JSON.stringify(statusDocument(context, request)),
  );
}

function statusPage(
  request: IncomingMessage,
  response: ServerResponse,
  context: RouteContext,
  pages: string,
): void {
  readFile(join(pages, 'status.html')).then(
    (body) => {
      response.writeHead(200, { ...PAGE_HEADERS, vary: 'accept' });
      response.end(request.method === 'HEAD' ? undefined : body);
    },
    () =>
      index(
        request,
        response,
        context,
        `the status page is not built: run npm run build (looked in ${pages})`,
      ),
  );
}

function health(response: ServerResponse, context: RouteContext): void {
  const { hub, halves, version, auth } = context;
  const transports = connectionsPerTransport(halves);
  const cluster = context.cluster?.();
  response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  response.end(
    JSON.stringify({
      status: 'ok',
      version,
      auth,
      ...hub.stats(),
      transports,
      ...(cluster && { cluster }),
    }),
  );
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
