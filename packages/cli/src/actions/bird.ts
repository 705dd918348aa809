import { readFile } from 'node:fs/promises';
import { cidrOwnership, vipRangesFromPools } from '@balanced/k8s';
import { AnnouncerConfigError, parseAnnouncerConfig, planAnnouncements, readVipPools, renderBirdConfig, type AnnouncerConfig } from '@balanced/vip-announcer';
import { NO_OBJECTS } from '../cluster-objects.js';
import type { RenderOptions } from '../commands/bird.js';
import { CliError, messageOf } from '../errors.js';
import type { CliIo } from '../io.js';
import { readSource } from '../source.js';
import { toJson } from '../table.js';

/** The announcer's own path: its config parser, planAnnouncements over the objects, renderBirdConfig. */
export async function runBirdRender(io: CliIo, o: RenderOptions): Promise<void> {
  const config = await readAnnouncerConfig(o.config, io);
  const objects = (await readSource(io, o)) ?? NO_OBJECTS;
  const pools = readVipPools(objects.vipPools);
  // As the announcer does: the VIP ranges are the VipPools' plus the config's optional cidrs.
  const ranges = vipRangesFromPools(objects.vipPools, config.cidrs).set;
  const withRanges: AnnouncerConfig = { ...config, cidrs: ranges.cidrs };
  const { plan } = planAnnouncements({
    services: objects.services,
    endpointSlices: objects.endpointSlices,
    pools: pools.pools,
    ownsVip: cidrOwnership(ranges.cidrs),
    defaultClass: o.defaultClass,
    controllerHealthy: !o.controllerUnhealthy,
    lastGood: new Map(),
  });
  const content = renderBirdConfig(withRanges, plan.announced);
  const problems = [...pools.problems, ...plan.problems];
  if (o.json === true) io.out(toJson({ config: content, announced: plan.announced, withheld: plan.withheld, problems }));
  else {
    io.out(content.endsWith('\n') ? content : `${content}\n`);
    for (const p of problems) io.err(`warning: ${p}\n`);
  }
}

async function readAnnouncerConfig(file: string, io: CliIo): Promise<AnnouncerConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read ${file}: ${messageOf(e)}`);
  }
  try {
    return parseAnnouncerConfig(text, io.env);
  } catch (e) {
    if (e instanceof AnnouncerConfigError) throw new CliError(`${file}: ${e.message}`);
    throw e;
  }
}
