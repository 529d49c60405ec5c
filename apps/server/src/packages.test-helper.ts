/** Packing the public workspaces with `npm pack` into a folder, for the package tests. */
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const run = promisify(execFile);
export const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** What `npm pack --json` reports for one package. */
export interface Packed {
  readonly name: string;
  readonly filename: string;
  readonly files: readonly { readonly path: string }[];
}

/** The public workspaces, by path. */
export async function publicWorkspaces(): Promise<{ path: string; name: string }[]> {
  const found: { path: string; name: string }[] = [];
  for (const parent of ['libs', 'apps']) {
    for (const entry of await readdir(join(ROOT, parent))) {
      const path = join(parent, entry);
      const manifest = JSON.parse(await readFile(join(ROOT, path, 'package.json'), 'utf8')) as {
        name: string;
        private?: boolean;
      };
      if (!manifest.private) found.push({ path, name: manifest.name });
    }
  }
  return found;
}

/** Packs `workspaces` (paths) into `destination`; each `prepack` builds its package. */
export async function pack(workspaces: readonly string[], destination: string): Promise<Packed[]> {
  const { stdout } = await run(
    'npm',
    ['pack', '--json', '--pack-destination', destination, ...workspaces.flatMap((w) => ['-w', w])],
    { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 },
  );
  return JSON.parse(stdout) as Packed[];
}

/** Installs the tarballs (plus `extra` registry packages) into `app` as its dependencies. */
export async function installTarballs(
  app: string,
  tarballs: string,
  packed: readonly Packed[],
  extra: Record<string, string> = {},
): Promise<void> {
  const { writeFile } = await import('node:fs/promises');
  const dependencies = {
    ...Object.fromEntries(packed.map((p) => [p.name, `file:${join(tarballs, p.filename)}`])),
    ...extra,
  };
  await writeFile(
    join(app, 'package.json'),
    JSON.stringify({ name: 'tarball-app', private: true, type: 'module', dependencies }),
  );
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
    cwd: app,
    maxBuffer: 64 * 1024 * 1024,
  });
}
