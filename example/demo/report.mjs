// --report FILE: the run as one static HTML page (no scripts, no external resources): the
// checks, an inline SVG bar chart of the pods' shares and an inline SVG failover timeline.
import { writeFileSync } from 'node:fs';

const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

/** Horizontal bars, one per pod. */
export function sharesSvg(shares, names) {
  const total = names.reduce((n, k) => n + (shares[k] ?? 0), 0) || 1;
  const row = 28;
  const bars = names.map((name, i) => {
    const n = shares[name] ?? 0;
    const w = Math.round((360 * n) / total);
    const y = 10 + i * row;
    return `<text x="0" y="${y + 14}">${esc(name)}</text><rect x="70" y="${y}" width="${w}" height="18" fill="#3b7dd8"><title>${n}</title></rect><text x="${76 + w}" y="${y + 14}">${n} (${((100 * n) / total).toFixed(1)}%)</text>`;
  });
  return `<svg id="shares" xmlns="http://www.w3.org/2000/svg" width="560" height="${20 + names.length * row}" font-family="sans-serif" font-size="13">${bars.join('')}</svg>`;
}

/** Events on a time axis (seconds since the first). */
export function timelineSvg(timeline) {
  const end = Math.max(1, ...timeline.map((t) => t.ms));
  const x = (ms) => 20 + Math.round((500 * ms) / end);
  const marks = timeline.map((t, i) => {
    const y = 40 + i * 22;
    return `<line x1="${x(t.ms)}" y1="20" x2="${x(t.ms)}" y2="${y - 4}" stroke="#999"/><circle cx="${x(t.ms)}" cy="20" r="5" fill="#d83b3b"/><text x="${x(t.ms) + 4}" y="${y}">+${(t.ms / 1000).toFixed(1)} s ${esc(t.what)}</text>`;
  });
  return `<svg id="timeline" xmlns="http://www.w3.org/2000/svg" width="900" height="${50 + timeline.length * 22}" font-family="sans-serif" font-size="13"><line x1="20" y1="20" x2="520" y2="20" stroke="#333"/>${marks.join('')}</svg>`;
}

export function renderReport({ vip, kernel, shares, pods, failover, checks }) {
  const rows = checks.map((c) => `<tr class="${c.ok ? 'ok' : 'failed'}"><td>${c.ok ? '✔' : '✘'}</td><td>${esc(c.name)}</td><td>${esc(c.detail)}</td></tr>`).join('\n');
  const held = checks.every((c) => c.ok);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>balanced demo report</title>
<style>body{font-family:sans-serif;margin:2em;max-width:60em}td{padding:2px 8px}.ok td:first-child{color:#2a2}.failed td:first-child{color:#c22}</style></head>
<body>
<h1>balanced demo: ${held ? 'every check held' : 'some checks failed'}</h1>
<p>Linux ${esc(kernel)} in the lab VM. Service shop/web got VIP <b>${esc(vip ?? '(none)')}</b> from the vip-allocator.</p>
<h2>Share per pod (TCP connections through two directors)</h2>
${sharesSvg(shares ?? {}, pods)}
<h2>Failover timeline</h2>
${failover ? `${timelineSvg(failover.timeline)}<p>${failover.survived} of ${failover.total} connections survived.</p>` : '<p>(not reached)</p>'}
<h2>Checks</h2>
<table>
${rows}
</table>
</body></html>
`;
}

export function writeReport(file, data) {
  writeFileSync(file, renderReport(data));
}
