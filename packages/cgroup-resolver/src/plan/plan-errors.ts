/** A desired state the planner cannot turn into maps (the builder never produces one: a caller's bug). */
export class PlanInputError extends Error {
  override readonly name = 'PlanInputError';
  readonly code = 'RESOLVER_PLAN_INPUT' as const;
  constructor(message: string) {
    super(message);
  }
}
