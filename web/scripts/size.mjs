// Fails when the JavaScript a first visit loads exceeds the budget.
// "Initial" means what index.html references (its module scripts and
// modulepreload links) plus their static imports; lazily imported chunks
// (the rich-text editor) are reported but not counted.
import { readFileSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const BUDGET = 150 * 1024;
const dist = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'internal', 'webui', 'dist');

/** @param {string} rel */
const gz = (rel) => gzipSync(readFileSync(join(dist, rel)), { level: 9 }).length;

let html;
try {
  html = readFileSync(join(dist, 'index.html'), 'utf8');
} catch {
  console.error('size: no build found; run npm run build first');
  process.exit(2);
}

/** @type {string[]} */
const queue = [];
for (const m of html.matchAll(/<(?:script|link)\b[^>]*\b(?:src|href)="\/?([^"]+\.js)"/g)) queue.push(m[1] ?? '');
const initial = new Set();
while (queue.length > 0) {
  const rel = queue.pop();
  if (!rel || initial.has(rel)) continue;
  initial.add(rel);
  const code = readFileSync(join(dist, rel), 'utf8');
  // Static imports between chunks: `import ... from "./x.js"` or `import "./x.js"`.
  for (const m of code.matchAll(/(?:^|[;\s}])import\s*(?:[^'"();]*?from\s*)?["'](\.\/[^"']+\.js)["']/g)) {
    queue.push(join(dirname(rel), m[1] ?? '').replaceAll('\\', '/'));
  }
}

const all = readdirSync(join(dist, 'assets')).filter((f) => f.endsWith('.js')).map((f) => `assets/${f}`);
let total = 0;
for (const rel of [...initial].sort()) {
  const size = gz(rel);
  total += size;
  console.log(`initial  ${(size / 1024).toFixed(1).padStart(7)} KB  ${rel}`);
}
for (const rel of all.filter((r) => !initial.has(r)).sort()) {
  console.log(`lazy     ${(gz(rel) / 1024).toFixed(1).padStart(7)} KB  ${rel}`);
}
console.log(`initial JS ${(total / 1024).toFixed(1)} KB gzipped, budget ${(BUDGET / 1024).toFixed(0)} KB`);
if (total > BUDGET) {
  console.error('size: over budget');
  process.exit(1);
}
