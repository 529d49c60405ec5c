import { defaultServerConditions } from 'vite';
import { defineConfig, type ViteUserConfig } from 'vitest/config';

/** The one vitest config every project shares: tests run on sources, never on dist. */
export function projectConfig(dirname: string, overrides: ViteUserConfig['test'] = {}) {
  return defineConfig({
    root: dirname,
    ssr: { resolve: { conditions: ['@switchyard/source', ...defaultServerConditions] } },
    test: {
      include: ['src/**/*.spec.ts'],
      environment: 'node',
      testTimeout: 20_000,
      hookTimeout: 20_000,
      pool: 'forks',
      ...overrides,
    },
  });
}
