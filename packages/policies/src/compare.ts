/** Code-unit order (never locale-dependent: every agent must sort the same way). */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
