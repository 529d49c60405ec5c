/**
 * `GET /demo/…`: the browser demo (apps/demo), built into this package's `dist/demo` by
 * `npm run build` or `npm start`. Static files only; nothing outside that folder is served.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pathOf, replyText } from '@switchyard/http';

/** Where the demo is built: `dist/demo`, from `src/` (tests) and `dist/` (the binary) alike. */
export const DEFAULT_DEMO_DIR = fileURLToPath(new URL('../dist/demo/', import.meta.url));

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  // the docs, copied in by the build: shown as text, not downloaded
  '.md': 'text/plain; charset=utf-8',
};

/**
 * Headers of the HTML pages (the demo, the status page): no inline script, no other origin, no
 * framing. Media and files come from the page's own blobs and streams.
 */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-cache',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'content-security-policy': [
    "default-src 'self'",
    "connect-src 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob: mediastream:",
    // MQTT.js keeps its timers in a worker made from a blob, so background tabs keep time
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; '),
};

/** Whether `path` is the demo's. */
export function isDemoPath(path: string): boolean {
  return path === '/demo' || path.startsWith('/demo/');
}

/** Serves the demo from `dir`. */
export function demoRoute(dir: string) {
  const root = normalize(dir.endsWith(sep) ? dir : dir + sep);
  return (request: IncomingMessage, response: ServerResponse): void => {
    const path = pathOf(request.url);
    if (path === '/demo') {
      const query = request.url?.slice(path.length) ?? '';
      response.writeHead(308, { location: `/demo/${query}` }).end();
      return;
    }
    let relative: string;
    try {
      relative = decodeURIComponent(path.slice('/demo/'.length)) || 'index.html';
    } catch {
      return replyText(response, 400, `bad path: ${path}`);
    }
    const file = normalize(join(root, relative));
    if (!file.startsWith(root)) return replyText(response, 404, `not found: ${path}`);
    readFile(file).then(
      (body) => {
        const hashed = relative.startsWith('assets/');
        const headers =
          extname(file) === '.html'
            ? PAGE_HEADERS
            : {
                'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
                // vite names assets by content hash: they never change; the rest may
                'cache-control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
                'x-content-type-options': 'nosniff',
              };
        response.writeHead(200, headers);
        response.end(request.method === 'HEAD' ? undefined : body);
      },
      () =>
        relative === 'index.html'
          ? replyText(response, 404, `the demo is not built: run npm run build (looked in ${root})`)
          : replyText(response, 404, `not found: ${path}`),
    );
  };
}
