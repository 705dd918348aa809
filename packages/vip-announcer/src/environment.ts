// `${NAME}` references in the string values of a config document, expanded from the
// environment: what differs per node (a DaemonSet passes e.g. the node's IP from the Downward
// API) without a config file per node.
import { AnnouncerConfigError, type ConfigProblem } from './config-error.js';

const ENV_REFERENCE = /\$\{([^}]*)\}/g;
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

/**
 * Replaces `${NAME}` in one string with the environment's value; `$${` is a literal `${`.
 * Returns the problems instead of throwing (a malformed or unset name).
 */
function expandString(text: string, env: Readonly<Record<string, string | undefined>>): { text: string; problems: string[] } {
  const problems: string[] = [];
  const out = text.split('$${').map((part) =>
    part.replace(ENV_REFERENCE, (whole, name: string) => {
      if (!ENV_NAME.test(name)) {
        problems.push(`${whole}: an environment variable name is upper case letters, digits and _`);
        return whole;
      }
      const value = env[name];
      if (value === undefined) {
        problems.push(`${whole}: environment variable ${name} is not set`);
        return whole;
      }
      return value;
    }),
  );
  return { text: out.join('${'), problems };
}

/**
 * Expands `${NAME}` in every string value of a parsed document (not in keys, not in comments),
 * for what differs per node: a DaemonSet passes e.g. the node's IP from the Downward API. Only
 * strings: a number must be written as a number. The result is validated like any other value.
 * Throws AnnouncerConfigError naming each field whose reference cannot be expanded.
 */
export function expandEnvironment(doc: unknown, env: Readonly<Record<string, string | undefined>>): unknown {
  const problems: ConfigProblem[] = [];
  const walk = (value: unknown, field: string): unknown => {
    if (typeof value === 'string') {
      const r = expandString(value, env);
      for (const message of r.problems) problems.push({ field: field === '' ? '(document)' : field, message });
      return r.text;
    }
    if (Array.isArray(value)) return value.map((v, i) => walk(v, `${field}[${i}]`));
    if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, field === '' ? k : `${field}.${k}`)]));
    return value;
  };
  const out = walk(doc, '');
  if (problems.length > 0) throw new AnnouncerConfigError(problems);
  return out;
}
