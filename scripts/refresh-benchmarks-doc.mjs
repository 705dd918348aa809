// Rewrites every figure in docs/benchmarks.md (`N<!-- bench: file#path [op k] -->`) to the current value
// in bench/results/, keeping the decimals shown. Run after a bench or a test rewrites a results file;
// packages/testkit/test/benchmarks-doc.test.ts fails until the doc matches. Wording and verdicts stay yours.
import { readFileSync, writeFileSync } from 'node:fs';
const doc = 'docs/benchmarks.md';
let md = readFileSync(doc, 'utf8');
const get = (f, p) => { let c = JSON.parse(readFileSync(`bench/results/${f}`, 'utf8')); for (const t of p.match(/[^.[\]]+/g)) c = c?.[/^\d+$/.test(t) ? Number(t) : t]; return c; };
md = md.replace(/(-?\d[\d,]*(?:\.\d+)?)(\s*[^\s\d<|]{0,6}\s*<!-- bench: ([\w.-]+\.json)#(\S+?)(?:\s+([*/])(\S+?))?\s*-->)/g, (all, num, rest, f, p, op, k) => {
  const v = get(f, p); if (typeof v !== 'number') { console.error('not a number', f, p); return all; }
  const x = op === '*' ? v * Number(k) : op === '/' ? v / Number(k) : v;
  const dec = num.includes('.') ? num.length - num.indexOf('.') - 1 : 0;
  let t = x.toFixed(dec); if (num.includes(',')) t = Number(t).toLocaleString('en-US', { minimumFractionDigits: dec });
  if (t !== num) console.log(`${f}#${p}: ${num} -> ${t}`);
  return t + rest;
});
writeFileSync(doc, md);
