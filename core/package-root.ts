/** The repository or installed package's root, whether this runs from source (tsx) or from `dist/`. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const up = path.dirname(here);

/** `core/` → root, or `dist/core/` → root. */
export const packageRoot = path.basename(up) === 'dist' ? path.dirname(up) : up;
