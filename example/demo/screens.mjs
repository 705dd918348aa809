// Plain-text screens: a heading per step, two tables side by side, shares as bars.

const WIDTH = 100;

export function heading(step, title) {
  console.log(`\n${'='.repeat(WIDTH)}\n ${step}  ${title}\n${'='.repeat(WIDTH)}`);
}

/** A section inside a screen. */
export function subheading(title) {
  console.log(`\n  ── ${title} ${'─'.repeat(Math.max(3, WIDTH - title.length - 6))}`);
}

export function note(text) {
  console.log(`  ${text}`);
}

/** One director's IPVS table as lines (ipvsadm-like). */
export function tableLines(table) {
  const lines = [];
  for (const { service, destinations } of [...table].sort((a, b) => a.service.key.protocol.localeCompare(b.service.key.protocol))) {
    const k = service.key;
    const flags = service.flags & 8 ? 'mh-fallback' : '-';
    lines.push(`${k.protocol.toUpperCase()} ${k.address}:${k.port} ${service.scheduler} ${flags}`);
    for (const d of destinations) lines.push(`  -> ${`${d.address}:${d.port}`.padEnd(17)} ${d.forwarding === 'tunnel' ? 'Tunnel' : d.forwarding} w${d.weight}`);
  }
  return lines;
}

/** Prints two columns side by side. */
export function sideBySide(leftTitle, left, rightTitle, right) {
  const w = Math.max(44, leftTitle.length, ...left.map((l) => l.length)) + 4;
  console.log(`  ${leftTitle.padEnd(w)}${rightTitle}`);
  console.log(`  ${'-'.repeat(w - 4).padEnd(w)}${'-'.repeat(w - 4)}`);
  for (let i = 0; i < Math.max(left.length, right.length); i++) console.log(`  ${(left[i] ?? '').padEnd(w)}${right[i] ?? ''}`);
}

/** Shares per pod as bars, e.g. pod-a  ████████  104 (34.7%). */
export function shareBars(shares, names) {
  const total = names.reduce((n, k) => n + (shares[k] ?? 0), 0);
  for (const name of names) {
    const n = shares[name] ?? 0;
    const pct = total === 0 ? 0 : (100 * n) / total;
    console.log(`  ${name.padEnd(8)} ${'█'.repeat(Math.round(pct / 2.5)).padEnd(40)} ${String(n).padStart(5)} (${pct.toFixed(1)}%)`);
  }
}

const t0 = Date.now();
/** A progress line on stderr (what is being started or awaited), with the time since the start. */
export function progress(text) {
  process.stderr.write(`  · ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s  ${text}\n`);
}
