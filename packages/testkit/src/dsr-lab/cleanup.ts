/** A stack of clean-up actions, run last-first; every action runs even when some fail. */
export class CleanupStack {
  private readonly actions: (() => Promise<void> | void)[] = [];

  defer(action: () => Promise<void> | void): void {
    this.actions.push(action);
  }

  /** Runs and forgets every action; throws an AggregateError afterwards if any failed. */
  async run(): Promise<void> {
    const errors: unknown[] = [];
    while (this.actions.length > 0) {
      const action = this.actions.pop()!;
      try {
        await action();
      } catch (e) {
        errors.push(e);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, `${errors.length} clean-up action(s) failed`);
  }
}
