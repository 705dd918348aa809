import { PLAN_COMPONENTS, type PlanOptions } from '../commands/plan.js';
import { componentList } from '../options.js';
import type { IpvsOperation } from '@balanced/ipvs';
import type { ActualService } from '@balanced/ipvs-controller';
import { FRONTEND_KINDS } from '@balanced/cgroup-resolver';
import { allocatorPlan, describeInvalidPool } from '../allocator.js';
import type { ClusterObjects } from '../cluster-objects.js';
import { directorDesired, directorPlan, describeOp, readIpvs } from '../director.js';
import { CliError, ReportedFailure, UsageError } from '../errors.js';
import type { CliIo } from '../io.js';
import { vipOwnership } from '../ownership.js';
import { withProgress } from '../progress.js';
import { serviceNames } from '../resolver-names.js';
import { EMPTY_DUMP, describeMapOp, frontendKinds, mapOpJson, readPinnedMaps, resolverDesired, resolverPlan } from '../resolver.js';
import { readSource } from '../source.js';
import { renderTable, toJson } from '../table.js';

type Component = (typeof PLAN_COMPONENTS)[number];

/** One component's section of the plan: JSON, human text, and whether it could be made. */
interface Section {
  readonly json: unknown;
  readonly text: string;
  readonly failed: boolean;
}

async function planSection(io: CliIo, c: Component, objects: ClusterObjects, o: PlanOptions): Promise<Section> {
  const against = o.empty === true ? 'empty' : 'live';
  switch (c) {
    case 'director': {
      const own = vipOwnership(o.vipCidr ?? [], objects);
      const settings = { ownsVip: own.ownsVip, defaultClass: o.defaultClass, drainSeconds: o.drainSeconds };
      const desired = directorDesired(objects, settings);
      const actual: ActualService[] = o.empty === true ? [] : await withProgress(io, 'reading IPVS', () => readIpvs(o.netns));
      const p = directorPlan(desired.services, actual, settings, Date.now());
      const refusals = desired.refusals.map((r) => ({ object: r.object, reason: r.reason, message: r.message }));
      return {
        failed: false,
        json: { kernel: against, owns: own.basis, desiredServices: desired.services.length, ops: p.ops.map((op) => ({ ...op, text: describeOp(op) })), refusals },
        text:
          `director (IPVS ${against === 'empty' ? 'empty table' : `live table${o.netns !== undefined ? ` in ${o.netns}` : ''}`}; owns ${own.basis}): ${desired.services.length} virtual services desired, ${p.ops.length} ops\n` +
          (p.ops.length > 0 ? renderTable(['#', 'OP', 'SERVICE', 'DESTINATION'], p.ops.map((op, i) => [String(i + 1), op.op, ...ipvsTarget(op)])) : '') +
          refusals.map((r) => `  refused ${r.object.kind} ${r.object.namespace}/${r.object.name}: ${r.reason}: ${r.message}\n`).join(''),
      };
    }
    case 'resolver': {
      const desired = resolverDesired(objects, o.node);
      const actual = o.empty === true ? EMPTY_DUMP : readPinnedMaps(o.pinRoot);
      const { plan } = resolverPlan(desired, actual);
      const names = serviceNames(plan);
      const kinds = frontendKinds(desired);
      const standIn = [...desired.services.values()].some((s) => (s.skipCgroups ?? []).length > 0);
      return {
        failed: false,
        json: {
          maps: against,
          node: o.node ?? null,
          frontendKinds: kinds,
          ops: plan.ops.map(mapOpJson),
          serviceIds: Object.fromEntries(plan.serviceIds),
          ...(standIn ? { skipCgroups: 'stand-in ids (the CLI does not read the node\'s cgroup hierarchy)' } : {}),
          refusals: desired.refusals,
        },
        text:
          `resolver (${against === 'empty' ? 'empty maps' : `pinned maps under ${o.pinRoot}`}; ${o.node !== undefined ? `node ${o.node}` : 'outside the cluster'}): ${desired.services.size} backend sets, ` +
          `${desired.frontends.length} frontends (${FRONTEND_KINDS.map((k) => `${kinds[k]} ${k}`).join(', ')}), ${plan.ops.length} ops\n` +
          (plan.ops.length > 0 ? renderTable(['#', 'OP', 'TARGET', 'DETAIL'], plan.ops.map((op, i) => [String(i + 1), ...describeMapOp(op, names)])) : '') +
          (standIn ? `  skip lists (LocalRedirectPolicy backend pods' cgroups) hold stand-in ids: the CLI does not read the node's cgroup hierarchy\n` : '') +
          desired.refusals.map((r) => `  refused ${r.object.kind} ${r.object.namespace !== undefined ? `${r.object.namespace}/` : ''}${r.object.name}: ${r.reason}: ${r.message}\n`).join(''),
      };
    }
    case 'allocator': {
      const { plan, invalidPools } = allocatorPlan(objects, o.defaultClass);
      return {
        failed: false,
        json: { changes: plan.changes, failures: plan.failures, usage: plan.usage, invalidPools },
        text:
          `allocator: ${plan.changes.length} status changes, ${plan.failures.length} failures\n` +
          (plan.changes.length > 0
            ? renderTable(['SERVICE', 'INGRESS', 'ASSIGNED', 'RELEASED'], plan.changes.map((ch) => [ch.key, ch.ips.join(',') || '-', ch.assigned !== undefined ? `${ch.assigned.ip} (${ch.assigned.pool})` : '-', ch.released.join(',') || '-']))
            : '') +
          plan.failures.map((f) => `  ${f.key}: ${f.reason}: ${f.message}\n`).join('') +
          invalidPools.map((p) => `  ${describeInvalidPool(p)}\n`).join('') +
          (plan.usage.length > 0 ? renderTable(['POOL', 'ALLOCATED', 'CAPACITY'], plan.usage.map((u) => [u.pool, String(u.allocated), u.capacity.toString()])) : ''),
      };
    }
  }
}

function ipvsTarget(op: IpvsOperation): [string, string] {
  const text = describeOp(op);
  const arrow = text.indexOf(' -> ');
  const rest = text.slice(op.op.length + 1);
  if (arrow === -1) return [rest + ('scheduler' in op.service ? ` ${op.service.scheduler}` : ''), ''];
  return [text.slice(op.op.length + 1, arrow), text.slice(arrow + 4)];
}

export async function runPlan(io: CliIo, o: PlanOptions): Promise<void> {
  const components = componentList<Component>(o.component, PLAN_COMPONENTS, '--component');
  const objects = await readSource(io, o);
  if (objects === undefined) throw new UsageError('plan needs the cluster state: --kubeconfig <file> or -f <manifest>');
  const sections: Partial<Record<Component, Section>> = {};
  for (const c of components) {
    try {
      sections[c] = await planSection(io, c, objects, o);
    } catch (e) {
      if (!(e instanceof CliError) || e instanceof UsageError) throw e;
      sections[c] = { json: { error: e.message }, text: `${c}: cannot plan: ${e.message}\n`, failed: true };
    }
  }
  if (o.json === true) io.out(toJson(Object.fromEntries(Object.entries(sections).map(([k, s]) => [k, s.json]))));
  else io.out(Object.values(sections).map((s) => s.text).join('\n'));
  if (Object.values(sections).some((s) => s.failed)) throw new ReportedFailure();
}
