// What is wrong with an announcer config: every problem, each naming its field.

export interface ConfigProblem {
  /** e.g. `neighbors[1].asn` */
  readonly field: string;
  readonly message: string;
}

export class AnnouncerConfigError extends Error {
  override readonly name = 'AnnouncerConfigError';
  readonly code = 'INVALID_CONFIG';
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(`invalid vip-announcer config: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`);
  }
}
