// Sizes of what a user's bundler keeps from the built ESM output, for lint (budgets) and bench.
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';

const root = new URL('..', import.meta.url).pathname;

export const BUNDLES = [
  { label: 'LamportClock alone', names: 'LamportClock' },
  { label: 'VectorClock alone', names: 'VectorClock' },
  { label: 'RaftNode + InMemoryNetwork', names: 'RaftNode, InMemoryNetwork' },
  { label: 'everything', names: '*' },
];

/** Bundles each import set with esbuild (minified, browser) and returns its code and sizes. */
export async function bundleSizes() {
  const sizes = [];
  for (const { label, names } of BUNDLES) {
    const contents =
      names === '*'
        ? `import * as all from '${root}dist/esm/index.js'; console.log(all);`
        : `import { ${names} } from '${root}dist/esm/index.js'; console.log(${names});`;
    const result = await build({
      stdin: { contents, resolveDir: root, loader: 'js' },
      bundle: true,
      minify: true,
      format: 'esm',
      write: false,
      platform: 'browser',
    });
    const code = result.outputFiles[0].text;
    sizes.push({ label, names, code, min: code.length, gzip: gzipSync(code).length });
  }
  return sizes;
}
