// vitest global setup: the golden sets the specs compare with live outside the repository, in `shared/` beside it
// (or $BLT_SHARED_DIR; src/io/shared-dir.ts). Without them a third of the specs cannot run; say so once, plainly,
// instead of letting each of them fail on a missing path.
import { existsSync } from 'node:fs';
import { sharedDir, sharedPath } from '../../src/io/shared-dir.js';

export default function checkSharedData(): void {
  const missing = ['golden', 'golden-meta', 'golden-train'].filter((d) => !existsSync(sharedPath(d)));
  if (missing.length > 0) {
    throw new Error(`the reference data the specs compare with is missing from ${sharedDir()} (${missing.join(', ')}): ` +
      `put the project's shared/ folder beside the repository, or set BLT_SHARED_DIR to where it is`);
  }
}
