import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The server package ships the demo: it is built into the server's dist, which `switchyard`
// serves at /demo/ (apps/server/src/demo-route.ts), so a user of the packed server gets it too.
export default defineConfig({
  root: fileURLToPath(new URL('./src', import.meta.url)),
  base: '/demo/',
  logLevel: 'warn',
  resolve: { conditions: ['@switchyard/source', 'browser', 'module', 'import', 'default'] },
  build: {
    outDir: fileURLToPath(new URL('../server/dist/demo', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // MQTT.js is most of the bundle; the demo is one page, so one chunk is right
    chunkSizeWarningLimit: 1024,
  },
});
