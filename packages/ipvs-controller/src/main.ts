#!/usr/bin/env node
import { pino } from 'pino';
import { limitHeapGrowth, runUntilSignal } from '@balanced/k8s';
import { startController } from './app.js';
import { parseControllerArgs } from './options.js';

const { config, logLevel, heapGrowingPercent } = parseControllerArgs(process.argv.slice(2));
limitHeapGrowth(heapGrowingPercent);
const log = pino({ level: logLevel, base: { component: 'ipvs-controller' } });
if (config.vipCidrs.length === 0) log.warn('no --vip-cidr given: this director owns no VIPs and will program nothing');

await runUntilSignal(() => startController(config, log), log);
