import { readFile } from 'node:fs/promises';
import type { AxeResults } from 'axe-core';
import type { Page } from 'playwright-core';

/** One axe-core finding, cut to what a failing test needs to say. */
export interface AxeFinding {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

let axeSource: Promise<string> | undefined;

/**
 * The page's accessibility violations that axe-core rates serious or critical. axe walks open
 * shadow roots, so the Lit pages are checked inside their components too.
 */
export async function seriousAxeViolations(page: Page): Promise<AxeFinding[]> {
  axeSource ??= readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
  // Evaluated, not added as a script tag: the app's CSP refuses inline scripts, as it should.
  await page.evaluate(await axeSource);
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (context: Document) => Promise<AxeResults> } }).axe;
    const results = await axe.run(document);
    return results.violations
      .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
      .map((violation) => ({
        id: violation.id,
        impact: violation.impact ?? null,
        help: violation.help,
        targets: violation.nodes.map((node) => JSON.stringify(node.target)),
      }));
  });
}

/** How wide the page is laid out: wider than the window means it scrolls sideways. */
export const pageWidth = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth);

/**
 * The innermost elements (shadow roots included) that reach past the window's right edge: what
 * makes a page scroll sideways, named for the failure message.
 */
export const elementsPastRightEdge = (page: Page) =>
  page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const found: string[] = [];
    const walk = (element: Element): boolean => {
      const children = [...element.children, ...(element.shadowRoot ? [...element.shadowRoot.children] : [])];
      const innerPast = children.map(walk).some(Boolean);
      const past = element.getBoundingClientRect().right > width + 0.5;
      if (past && !innerPast) {
        const testId = element.getAttribute('data-testid');
        found.push(`${element.tagName.toLowerCase()}${testId ? `[data-testid=${testId}]` : ''}`);
      }
      return past || innerPast;
    };
    walk(document.documentElement);
    return found;
  });

/** Scrolls every table (shadow roots included) back to its first column, as a page first shows it. */
export const scrollTablesToStart = (page: Page) =>
  page.evaluate(() => {
    const walk = (root: Document | ShadowRoot) => {
      for (const element of root.querySelectorAll('*')) {
        if (element.tagName === 'TABLE') element.scrollLeft = 0;
        if (element.shadowRoot) walk(element.shadowRoot);
      }
    };
    walk(document);
  });
