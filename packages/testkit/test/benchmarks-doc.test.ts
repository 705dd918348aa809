// docs/benchmarks.md quotes bench/results/*.json; each figure carries the field it comes from
// (`26.9<!-- bench: cgroup-resolver.json#scales[0].resolverP50Us -->`, optionally `/1e6` or
// `*100` when shown in millions or as a percentage) and each verdict the field or comparison it
// rests on (`met<!-- bench: file#goals.x.met -->`, `not met<!-- goal: file#field <= 1.05 -->`).
// This test fails when a figure differs from its field (rounded to the decimals shown), when a
// verdict no longer holds, or when a results file is not cited: rerun it after every bench run.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';

import { findRepoRoot } from '../src/repo-root.js';

const root = findRepoRoot();
const RESULTS = join(root, 'bench', 'results');
const doc = readFileSync(join(root, 'docs', 'benchmarks.md'), 'utf8');
const resultFiles = readdirSync(RESULTS).filter((f) => f.endsWith('.json')).sort();

type Json = unknown;

/** `a.b[2].c-d` → ['a', 'b', 2, 'c-d']; undefined when malformed. */
function pathTokens(path: string): (string | number)[] | undefined {
  const out: (string | number)[] = [];
  const re = /([^.[\]]+)|\[(\d+)\]|(\.)/gy;
  let m: RegExpExecArray | null;
  let last = 0;
  while ((m = re.exec(path)) !== null) {
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    last = re.lastIndex;
  }
  return last === path.length && out.length > 0 ? out : undefined;
}

function lookup(data: Json, path: string): Json {
  const tokens = pathTokens(path);
  if (tokens === undefined) return undefined;
  let cur: Json = data;
  for (const t of tokens) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string | number, Json>)[t];
  }
  return cur;
}

/** `12,345.67` as written → its number and decimals. */
function quoted(text: string): { value: number; decimals: number } {
  const plain = text.replace(/,/g, '');
  const dot = plain.indexOf('.');
  return { value: Number(plain), decimals: dot < 0 ? 0 : plain.length - dot - 1 };
}

function scaled(value: number, op: string | undefined, operand: string | undefined): number {
  if (op === undefined || operand === undefined) return value;
  return op === '*' ? value * Number(operand) : value / Number(operand);
}

const FIGURE = /(-?\d[\d,]*(?:\.\d+)?)\s*[^\s\d<|]{0,6}\s*<!-- bench: ([\w.-]+\.json)#(\S+?)(?:\s+([*/])(\S+?))?\s*-->/g;
const VERDICT = /\b(not met|met)\s*<!-- (bench|goal): ([\w.-]+\.json)#(\S+?)(?:\s+(<=|>=|<|>|==)\s+(-?[\d.]+))?\s*-->/g;
const ANY_MARKER = /<!-- (?:bench|goal):/g;

/** Every disagreement between the page and the files (file contents given by `read`). */
function docProblems(markdown: string, read: (file: string) => Json | undefined): { problems: string[]; cited: Set<string>; checked: number } {
  const problems: string[] = [];
  const cited = new Set<string>();
  let checked = 0;
  const lineOf = (index: number): number => markdown.slice(0, index).split('\n').length;
  for (const m of markdown.matchAll(FIGURE)) {
    const [, text = '', file = '', path = '', op, operand] = m;
    checked++;
    cited.add(file);
    const data = read(file);
    const field = lookup(data, path);
    const at = `line ${lineOf(m.index)}: ${text} (${file}#${path})`;
    if (data === undefined) problems.push(`${at}: no such file in bench/results`);
    else if (typeof field !== 'number') problems.push(`${at}: the field is ${JSON.stringify(field)}, not a number`);
    else {
      const q = quoted(text);
      const actual = Number(scaled(field, op, operand).toFixed(q.decimals));
      if (actual !== q.value) problems.push(`${at}: the file says ${field}, i.e. ${actual} as shown`);
    }
  }
  for (const m of markdown.matchAll(VERDICT)) {
    const [, word = '', kind = '', file = '', path = '', cmp, bound] = m;
    checked++;
    cited.add(file);
    const field = lookup(read(file), path);
    const at = `line ${lineOf(m.index)}: "${word}" (${file}#${path}${cmp === undefined ? '' : ` ${cmp} ${bound}`})`;
    let holds: boolean | undefined;
    if (kind === 'bench') holds = typeof field === 'boolean' ? field : undefined;
    else if (typeof field === 'number' && cmp !== undefined && bound !== undefined) {
      const b = Number(bound);
      holds = cmp === '<=' ? field <= b : cmp === '>=' ? field >= b : cmp === '<' ? field < b : cmp === '>' ? field > b : field === b;
    }
    if (holds === undefined) problems.push(`${at}: the field is ${JSON.stringify(field)}, which does not decide a verdict`);
    else if (holds !== (word === 'met')) problems.push(`${at}: the file now says ${holds ? 'met' : 'not met'} (${JSON.stringify(field)})`);
  }
  const markers = [...markdown.matchAll(ANY_MARKER)].length;
  if (markers !== checked) problems.push(`${markers - checked} marker(s) not next to a figure or a met/not met: write the figure right before <!-- bench: … -->`);
  return { problems, cited, checked };
}

const files = new Map<string, Json>(resultFiles.map((f) => [f, JSON.parse(readFileSync(join(RESULTS, f), 'utf8')) as Json]));
const readResult = (file: string): Json | undefined => files.get(file);

describe('docs/benchmarks.md', () => {
  it('every quoted figure and verdict matches the bench/results field it cites', () => {
    const { problems, checked } = docProblems(doc, readResult);
    expect(checked).toBeGreaterThan(100);
    expect(problems).toEqual([]);
  });

  it('cites every file in bench/results/', () => {
    const { cited } = docProblems(doc, readResult);
    expect(resultFiles.filter((f) => !cited.has(f))).toEqual([]);
    for (const f of resultFiles) expect(doc).toContain(`## ${f}`);
  });

  it('lists every row of the fault matrix by name', () => {
    const faults = files.get('faults.json');
    const rows = typeof faults === 'object' && faults !== null && 'rows' in faults && Array.isArray(faults.rows) ? (faults.rows as unknown[]) : [];
    expect(rows.length).toBeGreaterThan(0);
    const names = rows.map((r) => (typeof r === 'object' && r !== null && 'name' in r && typeof r.name === 'string' ? r.name : ''));
    expect(names.filter((n) => !doc.includes(`| ${n.replace(/\|/g, '/')} |`))).toEqual([]);
  });

  it('catches a drifted figure, a flipped verdict, a bad path and a stray marker', () => {
    const data = { a: { b: [1.25, 2], ok: false }, n: 1234567 };
    const read = (f: string): Json | undefined => (f === 'x.json' ? data : undefined);
    const good = '1.25<!-- bench: x.json#a.b[0] --> 1.3 ms<!-- bench: x.json#a.b[0] --> 1,234,567<!-- bench: x.json#n --> 1.23<!-- bench: x.json#n /1e6 --> not met<!-- bench: x.json#a.ok --> met<!-- goal: x.json#a.b[1] <= 2 -->';
    expect(docProblems(good, read).problems).toEqual([]);
    expect(docProblems(good, read).checked).toBe(6);
    const cases = [
      '1.2<!-- bench: x.json#a.b[0] -->',
      '1.26<!-- bench: x.json#a.b[0] -->',
      'met<!-- bench: x.json#a.ok -->',
      'not met<!-- goal: x.json#a.b[1] <= 2 -->',
      '5<!-- bench: x.json#a.c -->',
      '5<!-- bench: y.json#a -->',
      'the figure is elsewhere <!-- bench: x.json#n -->',
    ];
    for (const c of cases) expect([c, docProblems(c, read).problems.length]).toEqual([c, 1]);
  });
});
