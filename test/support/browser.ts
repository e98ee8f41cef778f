/**
 * What the browser tests share: Debian's chromium (required, never skipped: .ci/run installs
 * it), a server on 127.0.0.1 at an ephemeral port, and a page whose errors, warnings, failed
 * requests and dialogs are collected for the tests to assert empty.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { root } from './snippets.js';

/** The chromium the tests drive (CHROMIUM_PATH picks another build). */
export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
/** Where screenshots go (git-ignored). */
export const ARTIFACTS = join(root, 'test-artifacts/browser');

/** Launches chromium, or fails with how to install it. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no chromium at ${CHROMIUM}: install Debian's (apt-get install -y chromium), as .ci/run does, or set CHROMIUM_PATH`);
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}

/** Serves `handle` on 127.0.0.1 at a free port; resolves with the server and its origin. */
export async function serve(handle: (request: IncomingMessage, response: ServerResponse) => void): Promise<{ server: Server; origin: string }> {
  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** Serves fixed files by path (404 for anything else). */
export function serveFiles(files: Readonly<Record<string, { type: string; body: string | Buffer }>>): Promise<{ server: Server; origin: string }> {
  return serve((request, response) => {
    const file = files[request.url ?? ''];
    response.writeHead(file === undefined ? 404 : 200, { 'content-type': file?.type ?? 'text/plain' });
    response.end(file?.body ?? 'not found');
  });
}

/**
 * Collects into `problems` what a page logs as an error or warning, its uncaught errors and its
 * failed requests; dialogs are dismissed and go to `dialogs` (to `problems` when not given).
 */
export function watchPage(page: Page, problems: string[], dialogs?: string[]): void {
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(`console.${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()}`));
  page.on('dialog', (dialog) => {
    if (dialogs === undefined) problems.push(`dialog: ${dialog.message()}`);
    else dialogs.push(dialog.message());
    void dialog.dismiss();
  });
}

/** Closes the browser, then the server, whatever fails first. */
export async function closeAll(browser: Browser | undefined, server: Server | undefined): Promise<void> {
  try {
    await browser?.close();
  } finally {
    await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  }
}
