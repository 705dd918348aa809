// `npm run demo -- --report report.html` writes a static page (example/demo/report.mjs). Here
// the same writer renders fixed sample data (no lab needed) and headless Chromium shows it:
// the DOM holds both charts, and the screenshot has the share bars at the widths the data
// gives and the failover timeline's marks.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { findRepoRoot } from '@balanced/testkit';
import { findChromium, renderPage, type Rendered } from './support/chromium.js';
import { decodePng, type Image } from './support/png.js';

interface ReportData {
  readonly vip: string;
  readonly kernel: string;
  readonly shares: Readonly<Record<string, number>>;
  readonly pods: readonly string[];
  readonly failover: { readonly total: number; readonly survived: number; readonly timeline: readonly { readonly ms: number; readonly what: string }[] };
  readonly checks: readonly { readonly name: string; readonly ok: boolean; readonly detail: string }[];
}
interface ReportWriter {
  writeReport(file: string, data: ReportData): void;
}

const SAMPLE: ReportData = {
  vip: '10.96.100.10',
  kernel: '6.1.0-28-amd64',
  shares: { 'web-0': 341, 'web-1': 329, 'web-2': 330 },
  pods: ['web-0', 'web-1', 'web-2'],
  failover: {
    total: 30,
    survived: 30,
    timeline: [
      { ms: 0, what: 'director-1 stopped' },
      { ms: 1200, what: 'router: one path left' },
      { ms: 5200, what: 'every connection answered' },
    ],
  },
  checks: [
    { name: 'both directors hold identical tables', ok: true, detail: '' },
    { name: 'a check that failed', ok: false, detail: 'why it failed' },
  ],
};
/** Bar widths the writer draws: 360 px for all connections. */
const BAR_WIDTHS = SAMPLE.pods.map((p) => Math.round((360 * (SAMPLE.shares[p] ?? 0)) / 1000)); // 123, 118, 119
const BAR = [0x3b, 0x7d, 0xd8] as const;
const MARK = [0xd8, 0x3b, 0x3b] as const;

const chromium = findChromium();
const skip = chromium === undefined && process.env.CI !== 'true';
if (skip) process.stderr.write('SKIPPED: demo report rendering: no Chromium (apt-get install chromium; scripts/setup.sh installs it)\n');
const suite = skip ? describe.skip : describe;

const near = (c: readonly number[], want: readonly number[]): boolean => c.every((v, i) => Math.abs(v - (want[i] ?? 0)) <= 8);

/** Boxes of one colour: rows that hold it, grouped into runs of consecutive rows, with their extent. */
function boxes(image: Image, colour: readonly number[]): { top: number; height: number; left: number; width: number }[] {
  const found: { top: number; height: number; left: number; width: number }[] = [];
  let open: { top: number; height: number; left: number; right: number } | undefined;
  for (let y = 0; y < image.height; y++) {
    let left = -1;
    let right = -1;
    for (let x = 0; x < image.width; x++) {
      if (!near(image.rgb(x, y), colour)) continue;
      if (left === -1) left = x;
      right = x;
    }
    if (left !== -1 && open !== undefined) {
      open.height += 1;
      open.left = Math.min(open.left, left);
      open.right = Math.max(open.right, right);
    } else if (left !== -1) open = { top: y, height: 1, left, right };
    else if (open !== undefined) {
      found.push({ top: open.top, height: open.height, left: open.left, width: open.right - open.left + 1 });
      open = undefined;
    }
  }
  return found;
}

/** Separate runs of a colour along one row. */
function runsInRow(image: Image, y: number, colour: readonly number[]): number {
  let runs = 0;
  let inside = false;
  for (let x = 0; x < image.width; x++) {
    const hit = near(image.rgb(x, y), colour);
    if (hit && !inside) runs += 1;
    inside = hit;
  }
  return runs;
}

suite('the demo report in headless Chromium', () => {
  let dir: string;
  let page: Rendered;

  beforeAll(async () => {
    if (chromium === undefined) throw new Error('Chromium is not installed, and CI=true: scripts/setup.sh installs the Debian package chromium');
    dir = await mkdtemp(join(tmpdir(), 'demo-report-'));
    const { writeReport } = (await import(join(findRepoRoot(), 'example', 'demo', 'report.mjs'))) as ReportWriter;
    const file = join(dir, 'report.html');
    writeReport(file, SAMPLE);
    page = await renderPage(chromium, file);
  });
  afterAll(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('parses into both charts: a bar per pod, a mark per failover event', () => {
    const shares = /<svg id="shares"[^>]*>([\s\S]*?)<\/svg>/.exec(page.dom)?.[1] ?? '';
    const timeline = /<svg id="timeline"[^>]*>([\s\S]*?)<\/svg>/.exec(page.dom)?.[1] ?? '';
    expect([...shares.matchAll(/<rect [^>]*width="(\d+)"/g)].map((m) => Number(m[1]))).toEqual(BAR_WIDTHS);
    expect([...timeline.matchAll(/<circle /g)]).toHaveLength(3);
    expect(timeline).toContain('+5.2 s every connection answered');
    expect(page.dom).toContain('30 of 30 connections survived.');
    expect(page.dom).toContain('<h1>balanced demo: some checks failed</h1>');
  });

  it('paints them: the share bars at the widths the data gives, the timeline marks', () => {
    const image = decodePng(page.png);
    expect([image.width, image.height]).toEqual([1000, 1200]);
    const bars = boxes(image, BAR);
    expect(bars.map((b) => b.height)).toEqual([18, 18, 18]);
    expect(new Set(bars.map((b) => b.left)).size).toBe(1); // one axis
    bars.forEach((b, i) => expect(Math.abs(b.width - (BAR_WIDTHS[i] ?? 0))).toBeLessThanOrEqual(1));
    const marks = boxes(image, MARK);
    const row = (marks[0]?.top ?? 0) + Math.floor((marks[0]?.height ?? 0) / 2);
    expect(runsInRow(image, row, MARK)).toBe(3); // the three events on one axis
  });
});
