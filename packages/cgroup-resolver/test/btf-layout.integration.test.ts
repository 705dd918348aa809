// DESIGN.md: "the TypeScript codecs for keys and values are checked against the compiled
// object's BTF (sizes and offsets)". Compares layout.ts's STRUCTS (the table the codecs
// read their offsets from) and ENUMS with the BTF of dist/bpf/resolver.bpf.o, and with a
// probe compiled from resolver.h itself; then proves the check bites by adding a field to
// a copy of the header.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ENUMS, MAX_SKIP_CGROUPS, SERVICE_HEADER, STRUCTS, type StructLayout } from '../src/maps/layout.js';

const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
const OBJECT = join(PACKAGE_DIR, 'dist', 'bpf', 'resolver.bpf.o');
const HEADER = join(PACKAGE_DIR, 'bpf', 'resolver.h');

interface BtfType {
  readonly id: number;
  readonly kind: string;
  readonly name: string;
  readonly size?: number;
  readonly type_id?: number;
  readonly nr_elems?: number;
  readonly members?: readonly { readonly name: string; readonly type_id: number; readonly bits_offset: number }[];
  readonly values?: readonly { readonly name: string; readonly val: number }[];
}

interface BtfStruct {
  readonly size: number;
  readonly members: readonly { readonly name: string; readonly offset: number; readonly size: number }[];
}

function bpftool(): string {
  if (process.env.BPFTOOL) return process.env.BPFTOOL;
  return existsSync('/usr/sbin/bpftool') ? '/usr/sbin/bpftool' : 'bpftool';
}

/** Every named struct and enum in an object's BTF (`bpftool -j btf dump file X format raw`). */
function readBtf(objectPath: string): { structs: Map<string, BtfStruct>; enums: Map<string, Record<string, number>>; forwards: Set<string> } {
  const out = execFileSync(bpftool(), ['-j', 'btf', 'dump', 'file', objectPath, 'format', 'raw'], { encoding: 'utf8' });
  const types = new Map<number, BtfType>((JSON.parse(out) as { types: BtfType[] }).types.map((t) => [t.id, t]));
  const sizeOf = (id: number): number => {
    const t = types.get(id);
    if (id === 0) return 0; // void
    if (t === undefined) throw new Error(`BTF type ${id} missing`);
    if (t.kind === 'PTR') return 8;
    if (t.kind === 'ARRAY') return (t.nr_elems ?? 0) * sizeOf(t.type_id ?? 0);
    if (t.size !== undefined) return t.size;
    return sizeOf(t.type_id ?? 0); // TYPEDEF, CONST, VOLATILE
  };
  const resolve = (id: number): BtfType | undefined => {
    const t = types.get(id);
    return t !== undefined && ['TYPEDEF', 'CONST', 'VOLATILE'].includes(t.kind) ? resolve(t.type_id ?? 0) : t;
  };
  /** Members with byte offsets; anonymous struct/union members flattened into their parent. */
  const flatten = (t: BtfType, base: number): BtfStruct['members'] =>
    (t.members ?? []).flatMap((m) => {
      const inner = resolve(m.type_id);
      const offset = base + m.bits_offset / 8;
      if ((m.name === '(anon)' || m.name === '') && inner !== undefined && (inner.kind === 'STRUCT' || inner.kind === 'UNION')) return flatten(inner, offset);
      return [{ name: m.name, offset, size: sizeOf(m.type_id) }];
    });
  const structs = new Map<string, BtfStruct>();
  const enums = new Map<string, Record<string, number>>();
  const forwards = new Set<string>();
  for (const t of types.values()) {
    if ((t.kind === 'STRUCT' || t.kind === 'UNION') && t.name !== '(anon)') structs.set(t.name, { size: t.size ?? 0, members: flatten(t, 0) });
    if (t.kind === 'ENUM' && t.name !== '(anon)') enums.set(t.name, Object.fromEntries((t.values ?? []).map((v) => [v.name, v.val])));
    if (t.kind === 'FWD') forwards.add(t.name);
  }
  return { structs, enums, forwards };
}

/** Every difference between layout.ts and a BTF, one line each; [] when they agree. */
function compare(btf: ReturnType<typeof readBtf>, layouts: readonly StructLayout[], where: string): string[] {
  const diffs: string[] = [];
  for (const s of layouts) {
    const got = btf.structs.get(s.name);
    if (got === undefined) {
      diffs.push(
        btf.forwards.has(s.name)
          ? `struct ${s.name}: only forward-declared in ${where} (its full type is not in the BTF: use it by value in the BPF C, e.g. as a parameter of a used function)`
          : `struct ${s.name}: not in ${where}`,
      );
      continue;
    }
    if (got.size !== s.size) diffs.push(`struct ${s.name}: size ${got.size} in ${where}, ${s.size} in layout.ts`);
    const names = (ms: readonly { name: string }[]): string => ms.map((m) => m.name).join(',');
    if (names(got.members) !== names(s.fields)) diffs.push(`struct ${s.name}: members [${names(got.members)}] in ${where}, [${names(s.fields)}] in layout.ts`);
    for (const f of s.fields) {
      const m = got.members.find((x) => x.name === f.name);
      if (m === undefined) continue;
      if (m.offset !== f.offset) diffs.push(`${s.name}.${f.name}: offset ${m.offset} in ${where}, ${f.offset} in layout.ts`);
      if (m.size !== f.size) diffs.push(`${s.name}.${f.name}: size ${m.size} in ${where}, ${f.size} in layout.ts`);
    }
  }
  return diffs;
}

function compareEnums(btf: ReturnType<typeof readBtf>, required: boolean, where: string): string[] {
  const diffs: string[] = [];
  for (const [name, values] of Object.entries(ENUMS)) {
    const got = btf.enums.get(name);
    if (got === undefined) {
      if (required) diffs.push(`enum ${name}: not in ${where}`);
      continue;
    }
    if (JSON.stringify(got) !== JSON.stringify(values)) diffs.push(`enum ${name}: ${JSON.stringify(got)} in ${where}, ${JSON.stringify(values)} in layout.ts`);
  }
  return diffs;
}

/** Compile a probe that includes `headerDir/resolver.h` and uses every struct and enum by value. */
function compileProbe(headerDir: string, out: string): string {
  const src = join(dirname(out), 'probe.c');
  // BPF functions take at most 5 arguments: one struct holds every type by value.
  const members = [...Object.keys(STRUCTS).map((n) => `struct ${n} s_${n};`), ...Object.keys(ENUMS).map((n) => `enum ${n} e_${n};`)];
  writeFileSync(src, `#include "resolver.h"\nstruct bd_btf_probe { ${members.join(' ')} };\nstatic void __attribute__((used)) anchor(struct bd_btf_probe *p) {}\n`);
  execFileSync('clang', ['-target', 'bpf', '-g', '-O2', '-I/usr/include/x86_64-linux-gnu', `-I${headerDir}`, '-c', src, '-o', out], { stdio: 'pipe' });
  return out;
}

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'bdm-btf-'));
});
afterAll(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

describe('layout.ts against BTF', () => {
  it('matches every struct and enum of the compiled resolver.bpf.o', () => {
    if (!existsSync(OBJECT)) {
      throw new Error(`${OBJECT} is missing: run \`bash packages/cgroup-resolver/bpf/build.sh\` (or npm run build:bpf -w @balanced/cgroup-resolver) first`);
    }
    const btf = readBtf(OBJECT);
    expect([...compare(btf, Object.values(STRUCTS), 'resolver.bpf.o'), ...compareEnums(btf, true, 'resolver.bpf.o')]).toEqual([]);
  });

  it('matches a probe compiled from resolver.h (every struct and enum by value)', () => {
    const btf = readBtf(compileProbe(dirname(HEADER), join(work, 'probe.o')));
    expect([...compare(btf, Object.values(STRUCTS), 'resolver.h'), ...compareEnums(btf, true, 'resolver.h')]).toEqual([]);
  });

  it('service_header: the skip list took the pad (4 × u64 at offset 24), the header is still one 64-byte chunk', () => {
    const header = readBtf(OBJECT).structs.get('service_header');
    expect(header?.size).toBe(64);
    expect(header?.members.slice(-2)).toEqual([
      { name: 'skip_cgroups', offset: 24, size: 8 * MAX_SKIP_CGROUPS },
      { name: 'pad', offset: 24 + 8 * MAX_SKIP_CGROUPS, size: 64 - 24 - 8 * MAX_SKIP_CGROUPS },
    ]);
    expect(SERVICE_HEADER.fields.slice(-2).map((f) => [f.name, f.offset, f.size, f.type])).toEqual([
      ['skip_cgroups', 24, 32, 'u64'],
      ['pad', 56, 8, 'u8'],
    ]);
  });

  it('fails when the skip list grows in (a copy of) resolver.h only', () => {
    const dir = mkdtempSync(join(work, 'skip-'));
    const text = readFileSync(HEADER, 'utf8');
    const edited = text.replace(/#define MAX_SKIP_CGROUPS \d+/, '#define MAX_SKIP_CGROUPS 5');
    expect(edited).not.toBe(text);
    writeFileSync(join(dir, 'resolver.h'), edited);
    const diffs = compare(readBtf(compileProbe(dir, join(dir, 'probe.o'))), Object.values(STRUCTS), 'edited resolver.h');
    expect(diffs).toEqual(
      expect.arrayContaining([
        'struct service_header: size 72 in edited resolver.h, 64 in layout.ts',
        'service_header.skip_cgroups: size 40 in edited resolver.h, 32 in layout.ts',
        'service_header.pad: offset 64 in edited resolver.h, 56 in layout.ts',
      ]),
    );
  });

  it('fails when a field is added to (a copy of) resolver.h only', () => {
    const dir = mkdtempSync(join(work, 'edited-'));
    copyFileSync(HEADER, join(dir, 'resolver.h'));
    const text = readFileSync(join(dir, 'resolver.h'), 'utf8');
    // A new member at the end of backend_value, and one in the middle of revnat_value.
    const edited = text
      .replace(/(struct backend_value \{[^}]*__u8 pad;)/, '$1\n\t__u32 weight;')
      .replace(/(struct revnat_value \{[^}]*?__u8 proto;)/, '$1\n\t__u8 extra;');
    expect(edited).not.toBe(text);
    writeFileSync(join(dir, 'resolver.h'), edited);
    const diffs = compare(readBtf(compileProbe(dir, join(dir, 'probe.o'))), Object.values(STRUCTS), 'edited resolver.h');
    expect(diffs).toEqual(
      expect.arrayContaining([
        'struct backend_value: size 24 in edited resolver.h, 20 in layout.ts',
        'struct backend_value: members [addr,port,flags,pad,weight] in edited resolver.h, [addr,port,flags,pad] in layout.ts',
        expect.stringMatching(/^struct revnat_value: members \[addr,port,proto,extra,kind,service_id\]/),
        'revnat_value.kind: offset 20 in edited resolver.h, 19 in layout.ts',
      ]),
    );
  });
});
