// Every claim the demo prints is a check: it records whether it held, and the run exits 1
// when any did not (with the list of the ones that failed).

export class Checks {
  /** @type {{ name: string, ok: boolean, detail: string }[]} */
  results = [];

  /** Records a check and prints one line for it; returns `ok`. */
  check(name, ok, detail = '') {
    this.results.push({ name, ok: Boolean(ok), detail });
    console.log(`  ${ok ? '✔' : '✘'} ${name}${detail ? ` — ${detail}` : ''}`);
    return Boolean(ok);
  }

  get failed() {
    return this.results.filter((r) => !r.ok);
  }
}
