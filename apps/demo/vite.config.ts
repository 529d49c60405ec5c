import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const DOCS = new URL('../../docs/', import.meta.url);

/** The repository's docs/*.md, shipped with the pages so the status page can link to them. */
function docs(): Plugin {
  return {
    name: 'switchyard-docs',
    generateBundle() {
      for (const entry of readdirSync(DOCS, { recursive: true, encoding: 'utf8' })) {
        if (!entry.endsWith('.md')) continue;
        this.emitFile({
          type: 'asset',
          fileName: `docs/${entry}`,
          source: readFileSync(new URL(entry, DOCS)),
        });
      }
    },
  };
}

// The server package ships these pages: they are built into the server's dist, which `switchyard`
// serves (apps/server/src/demo-route.ts): the demo at /demo/, the status page at / for browsers.
export default defineConfig({
  root: fileURLToPath(new URL('./src', import.meta.url)),
  base: '/demo/',
  logLevel: 'warn',
  resolve: { conditions: ['@switchyard/source', 'browser', 'module', 'import', 'default'] },
  plugins: [docs()],
  build: {
    outDir: fileURLToPath(new URL('../server/dist/demo', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // MQTT.js is most of the demo's bundle; it is one page, so one chunk is right
    chunkSizeWarningLimit: 1024,
    rolldownOptions: {
      input: {
        demo: fileURLToPath(new URL('./src/index.html', import.meta.url)),
        status: fileURLToPath(new URL('./src/status.html', import.meta.url)),
      },
    },
  },
});
