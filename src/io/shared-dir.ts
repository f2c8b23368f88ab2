/**
 * Where the project's shared reference data lives (golden sets, benchmark configs): the folder `shared/`
 * beside the repository (the layout of development machines and CI), or $BLT_SHARED_DIR.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository (package) root: the nearest folder above this file that holds package.json. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`sharedDir: no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
  return dir;
}

export function sharedDir(): string {
  return process.env.BLT_SHARED_DIR ?? resolve(packageRoot(), '..', 'shared');
}

/** A path inside the shared folder, e.g. sharedPath('golden', 'blt1b_like'). */
export function sharedPath(...parts: string[]): string {
  return join(sharedDir(), ...parts);
}
