// The fenced code blocks of a Markdown document, with what the docs' tests need to know about
// each: the language, the `title=` of the info string, and the HTML comment on the line
// before the fence (`<!-- tested -->`, `<!-- not tested: reason -->`). Pure.

export interface FencedBlock {
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** First word of the info string ('' when none). */
  readonly lang: string;
  /** `title=NAME` of the info string, or undefined. */
  readonly title: string | undefined;
  /** The text of an HTML comment on the last non-blank line before the fence, or undefined. */
  readonly marker: string | undefined;
  /** The lines between the fences, joined with '\n' (with a final newline). */
  readonly body: string;
}

const OPEN = /^(`{3,}|~{3,})\s*([^`\s]*)(.*)$/;
const COMMENT = /^<!--\s*(.*?)\s*-->$/;

export function fencedBlocks(markdown: string): FencedBlock[] {
  const lines = markdown.split('\n');
  const out: FencedBlock[] = [];
  let lastText = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const open = OPEN.exec(line);
    if (open === null) {
      if (line.trim() !== '') lastText = line.trim();
      continue;
    }
    const fence = open[1] ?? '```';
    const title = /(?:^|\s)title=("?)([^"\s]+)\1/.exec(open[3] ?? '')?.[2];
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !(lines[j] ?? '').startsWith(fence)) body.push(lines[j++] ?? '');
    if (j >= lines.length) throw new Error(`line ${i + 1}: the code block is not closed`);
    out.push({ line: i + 1, lang: open[2] ?? '', title, marker: COMMENT.exec(lastText)?.[1], body: body.length > 0 ? `${body.join('\n')}\n` : '' });
    lastText = '';
    i = j;
  }
  return out;
}

/** The command lines of a shell block: comments and blank lines dropped, `# …` tails cut. */
export function commandLines(body: string): string[] {
  return body
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}
