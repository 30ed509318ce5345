// Empties internal/webui/dist before a build, keeping the committed files
// (the placeholder page and the .gitignore) so that git stays clean.
import { readdirSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'internal', 'webui', 'dist');
const keep = new Set(['.gitignore', 'notbuilt.html']);
for (const name of readdirSync(dist)) {
  if (!keep.has(name)) rmSync(join(dist, name), { recursive: true, force: true });
}
