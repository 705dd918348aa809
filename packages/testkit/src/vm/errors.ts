/** The VM never reported RUN_EXIT (boot failure, guest hang, timeout, QEMU died), even after one retry. */
export class LabBootError extends Error {
  override readonly name = 'LabBootError';
  constructor(
    message: string,
    /** The last lines of the serial console of the final attempt. */
    readonly consoleTail: string,
    /** How many boots were attempted. */
    readonly attempts: number,
  ) {
    super(`${message}\n--- last console lines ---\n${consoleTail}`);
  }
}
