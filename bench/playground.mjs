// `npm run bench:playground`: the frame time of <raft-playground> in a real browser. Bundles the
// element's standalone script (src/viz/playground/standalone.ts) with esbuild, serves it from
// 127.0.0.1, and lets chromium (playwright-core, /usr/bin/chromium or CHROMIUM_PATH) animate a
// 5-node cluster at 1× for a few seconds; then prints the work per frame (the simulation slices,
// the replay and the drawing, as the element measures them): mean, p99 and max in ms. Goal:
// ≤ 16 ms, so a 60 Hz display never waits. Not part of `npm test` and not asserted.
import { createServer } from 'node:http';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const SPEED = process.env.BENCH_SPEED ?? '1';
const root = new URL('..', import.meta.url).pathname;

const bundle = await build({ entryPoints: [`${root}src/viz/playground/standalone.ts`], bundle: true, format: 'iife', platform: 'browser', target: 'es2022', minify: true, write: false, logLevel: 'silent' });
const page = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>bench</title><link rel="icon" href="data:,"></head>
<body><raft-playground id="p" seed="1" size="5" speed="${SPEED}" autoplay></raft-playground><script src="/p.js"></script></body></html>`;
const server = createServer((request, response) => {
  const js = request.url === '/p.js';
  response.writeHead(200, { 'content-type': js ? 'text/javascript' : 'text/html' });
  response.end(js ? bundle.outputFiles[0].text : page);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
try {
  const tab = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const errors = [];
  tab.on('pageerror', (error) => errors.push(error.message));
  await tab.goto(`http://127.0.0.1:${server.address().port}/`);
  await tab.waitForTimeout(SECONDS * 1000);
  const result = await tab.evaluate(() => {
    const element = document.getElementById('p');
    element.pause();
    return { times: [...element.frameTimes], state: element.state };
  });
  const times = result.times.slice(5); // the first frames include the page warming up
  const sorted = [...times].sort((a, b) => a - b);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  const p99 = sorted[Math.min(sorted.length - 1, Math.floor(0.99 * sorted.length))];
  const max = sorted[sorted.length - 1];
  const fmt = (x) => (Number.isFinite(x) ? x.toFixed(2) : '–');
  console.log(`<raft-playground>, 5 nodes at ${SPEED}×, ${SECONDS} s in chromium: ${times.length} frames, ${fmt(result.state.time / 1000)} s of virtual time, leader ${result.state.leader ?? 'none'}`);
  console.log(`work per frame: mean ${fmt(mean)} ms, p99 ${fmt(p99)} ms, max ${fmt(max)} ms (goal ≤ 16 ms)`);
  if (errors.length > 0) console.log(`page errors: ${errors.join('; ')}`);
} finally {
  await browser.close();
  server.close();
}
