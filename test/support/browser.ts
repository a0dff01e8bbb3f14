import { chromium, type Browser } from 'playwright-core';
import { readTestEnv } from './services';

/**
 * Debian's Chromium, headless, with the flags these machines need (no network but loopback).
 * Playwright gives each launch a fresh, empty profile of its own.
 */
export async function launchBrowser(): Promise<{ browser: Browser; close: () => Promise<void> }> {
  const browser = await chromium.launch({
    executablePath: readTestEnv('chromium'),
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return { browser, close: () => browser.close() };
}
