/**
 * What the build renders into the pages, run in Node by scripts/site.mjs (which bundles this file
 * with esbuild and imports it): the clocks examples, the seed's mini project and the lessons
 * list, drawn by the same pure functions the pages use, so each page reads whole before (or
 * without) its script.
 */
import { lessons } from '../../../src/viz/index.js';
import { lamportSection, lessonsSection, nav, roundsSection, runMiniProject, vectorSection, PAGES } from './views.js';

/** The seed of the mini project, as `raftkit demo` runs it. */
export const MINI_PROJECT = { seed: 42, rounds: 3, size: 5 } as const;

/** The fragments each page's `<!-- slot:name -->` markers are replaced with, by page file. */
export async function prerender(): Promise<Record<string, Record<string, string>>> {
  const rounds = await runMiniProject(MINI_PROJECT.seed, MINI_PROJECT.rounds, MINI_PROJECT.size);
  const pages: Record<string, Record<string, string>> = {};
  for (const page of PAGES) if (!page.file.includes('/')) pages[page.file] = { nav: nav(page.file) };
  Object.assign(pages['clocks.html'] ?? {}, { lamport: lamportSection(), vector: vectorSection() });
  Object.assign(pages['mini-project.html'] ?? {}, { rounds: roundsSection(rounds, MINI_PROJECT.seed) });
  Object.assign(pages['playground.html'] ?? {}, { lessons: lessonsSection(lessons) });
  return pages;
}
