// The image trees scripts/images/assemble.sh writes (build/rootfs: one root filesystem folder per
// flavour, `<image>.json` per image), read as ImageConfigs by image reference.

import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { isManifestRecord } from '../manifest-schema.js';
import { findRepoRoot } from '../repo-root.js';
import { ManifestRunError, type ImageConfig } from './types.js';

/** <repo>/build/rootfs */
export function defaultImageTreesDir(): string {
  return join(findRepoRoot(), 'build', 'rootfs');
}

/** The prefix deploy/*.yaml names the images with (`balanced/<image>:<version>`). */
export const IMAGE_REPOSITORY = 'balanced';

function stringList(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw new ManifestRunError(`${what}: expected a list of strings`);
  return value as string[];
}

function text(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new ManifestRunError(`${what}: expected a string`);
  return value;
}

/** One `<image>.json` (from assemble.sh) with its tree folder made absolute. */
export function parseImageConfig(json: string, dir: string, passwd: string, source: string): ImageConfig {
  const raw: unknown = JSON.parse(json);
  if (!isManifestRecord(raw)) throw new ManifestRunError(`${source}: not an object`);
  return {
    image: text(raw['image'], `${source}: image`),
    version: text(raw['version'], `${source}: version`),
    rootfs: join(dir, text(raw['rootfs'], `${source}: rootfs`)),
    user: text(raw['user'], `${source}: user`),
    workingDir: text(raw['workingDir'], `${source}: workingDir`),
    env: stringList(raw['env'], `${source}: env`),
    entrypoint: stringList(raw['entrypoint'], `${source}: entrypoint`),
    cmd: stringList(raw['cmd'], `${source}: cmd`),
    passwd,
  };
}

/** Every image under `dir`, by reference (`balanced/<image>:<version>`); empty when the folder is absent. */
export function loadImageTrees(dir: string = defaultImageTreesDir()): Map<string, ImageConfig> {
  const out = new Map<string, ImageConfig>();
  if (!existsSync(dir)) return out;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const source = join(dir, file);
    const peek = parseImageConfig(readFileSync(source, 'utf8'), dir, '', source);
    const passwdFile = join(peek.rootfs, 'etc', 'passwd');
    const passwd = existsSync(passwdFile) ? readFileSync(passwdFile, 'utf8') : '';
    out.set(`${IMAGE_REPOSITORY}/${peek.image}:${peek.version}`, { ...peek, passwd });
  }
  return out;
}

/** A lookup for planPod: the image a reference names, or a ManifestRunError listing those there are. */
export function imageLookup(images: ReadonlyMap<string, ImageConfig>): (reference: string) => ImageConfig {
  return (reference) => {
    const image = images.get(reference);
    if (image === undefined) throw new ManifestRunError(`image ${reference} is not among the assembled images (${[...images.keys()].join(', ') || 'none: run scripts/images/assemble.sh'})`);
    if (!existsSync(image.rootfs)) throw new ManifestRunError(`image ${reference}: its tree ${image.rootfs} is missing (run scripts/images/assemble.sh)`);
    return image;
  };
}
