// Builds raftkit's courseware site (`npm run site`) from docs/site/src/ into docs/site/:
//   node scripts/site.mjs [--out DIR] [--no-api]
// - the pages' <!-- slot:name --> markers are filled with HTML rendered here in Node by
//   docs/site/src/prerender.ts (the clocks examples, the seed's mini project, the lessons list),
//   with the same pure functions the pages' scripts use;
// - the page scripts and the <raft-playground> element (src/viz/playground/standalone.ts) are
//   bundled by esbuild as classic IIFE scripts, because ES modules do not load from file://;
// - typedoc writes the API reference into <out>/api (typedoc.json's settings), so the API link
//   works offline; --no-api writes a stub page there instead (tests use it: typedoc is slow).
// Everything is local: no page loads anything from the network. The output is git-ignored.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const SRC = join(root, 'docs/site/src');
const PAGE_SCRIPTS = ['clocks', 'mini-project', 'playground'];
const PLAYGROUND = join(root, 'src/viz/playground/standalone.ts');

const { values } = parseArgs({ options: { out: { type: 'string', default: join(root, 'docs/site') }, 'no-api': { type: 'boolean', default: false } } });
const out = resolve(values.out);
if (SRC === out || SRC.startsWith(join(out, 'api'))) throw new Error(`site: --out ${out} would overwrite the sources in ${SRC}`);
mkdirSync(out, { recursive: true });
const say = (line) => console.log(`site: ${line}`);
const show = (file) => relative(process.cwd(), file) || '.';

// 1. Render what the build can render, in Node: bundle prerender.ts (it imports src/) and run it.
const scratch = mkdtempSync(join(tmpdir(), 'raftkit-site-'));
let fragments;
try {
  const entry = join(scratch, 'prerender.mjs');
  await build({ entryPoints: [join(SRC, 'prerender.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: entry, logLevel: 'warning' });
  fragments = await (await import(pathToFileURL(entry).href)).prerender();
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

// 2. The pages: each slot filled exactly once, no fragment left unused.
for (const file of readdirSync(SRC).filter((f) => f.endsWith('.html')).sort()) {
  const slots = fragments[file] ?? {};
  const used = new Set();
  const html = readFileSync(join(SRC, file), 'utf8').replace(/<!-- slot:([\w-]+) -->/g, (_, name) => {
    if (!Object.hasOwn(slots, name)) throw new Error(`site: ${file} has a slot "${name}" that prerender.ts does not fill`);
    used.add(name);
    return slots[name];
  });
  const unused = Object.keys(slots).filter((name) => !used.has(name));
  if (unused.length > 0) throw new Error(`site: prerender.ts renders ${unused.join(', ')} for ${file}, which has no such slot`);
  writeFileSync(join(out, file), html);
  say(`${show(join(out, file))}: ${Buffer.byteLength(html)} bytes`);
}
copyFileSync(join(SRC, 'site.css'), join(out, 'site.css'));

// 3. Scripts: classic IIFEs that run from file:// as from any host.
const bundle = (entry, outfile) =>
  build({ entryPoints: [entry], bundle: true, format: 'iife', platform: 'browser', target: 'es2022', minify: true, legalComments: 'none', outfile, logLevel: 'warning' });
for (const name of PAGE_SCRIPTS) await bundle(join(SRC, `${name}.ts`), join(out, `${name}.js`));
if (existsSync(PLAYGROUND)) {
  await bundle(PLAYGROUND, join(out, 'raft-playground.js'));
} else {
  // Until the element exists the page says so (playground.js shows its notice), without a 404.
  writeFileSync(join(out, 'raft-playground.js'), '/* <raft-playground> is not built: src/viz/playground/standalone.ts does not exist yet. */\n');
  say(`no ${show(PLAYGROUND)}: raft-playground.js is a stub`);
}
say(`${show(out)}: ${PAGE_SCRIPTS.map((n) => `${n}.js`).join(', ')}, raft-playground.js, site.css`);

// 4. The API reference, with the project's typedoc settings.
const api = join(out, 'api');
if (values['no-api']) {
  if (!existsSync(join(api, 'index.html'))) {
    mkdirSync(api, { recursive: true });
    writeFileSync(
      join(api, 'index.html'),
      '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>API reference · raftkit</title><link rel="icon" href="data:,"><link rel="stylesheet" href="../site.css"></head>\n' +
        '<body><main id="main"><h1>API reference</h1><p>This build skipped the API reference (<code>--no-api</code>). Run <code>npm run site</code> to build it here.</p><p><a href="../index.html">Back to the site</a></p></main></body></html>\n',
    );
  }
  say('skipped the API reference (--no-api)');
} else {
  const typedoc = spawnSync(process.execPath, [join(root, 'node_modules/typedoc/bin/typedoc'), '--out', api], { cwd: root, stdio: 'inherit' });
  if (typedoc.status !== 0) {
    // typedoc.json treats warnings as errors: an undocumented export fails the site as it fails `npm run docs`.
    console.error(`site: typedoc failed (exit ${typedoc.status ?? typedoc.signal}); the pages are built, the API reference is not`);
    process.exit(1);
  }
  // typedoc's pages point their icons at assets/icons.svg, which chromium refuses to load from
  // file:// (an error per icon in the console) until assets/icons.js rewrites them to the copy it
  // inlines; rewrite them now, as icons.js would, so the reference is quiet from disk too.
  let pages = 0;
  for (const file of htmlFiles(api)) {
    const html = readFileSync(file, 'utf8');
    const quiet = html.replace(/href="(?:\.\.\/)*assets\/icons\.svg#/g, 'href="#');
    if (quiet === html) continue;
    writeFileSync(file, quiet);
    pages++;
  }
  say(`${show(api)}: the API reference (${pages} pages with their icons inlined)`);
}

/** Every .html file under `dir`. */
function htmlFiles(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.html'))
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name));
}
