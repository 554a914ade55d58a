/**
 * `${VAR}` and `${VAR:-default}` in YAML string values, resolved from the environment on
 * the parsed document (never on raw text, so a value can't inject YAML structure and line
 * numbers stay true). `$${` writes a literal `${`. An unset variable without a default is
 * the empty string, so a missing key leaves its provider unconfigured rather than failing.
 */
import { isScalar, visit, type Document } from '../deps/yaml.js';

const PATTERN = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export function interpolateString(value: string, env: NodeJS.ProcessEnv): string {
  if (!value.includes('${')) return value;
  return value.replace(PATTERN, (match, name: string | undefined, fallback: string | undefined) => {
    if (name === undefined) return '${';
    const found = env[name];
    if (found !== undefined && found !== '') return found;
    return fallback ?? '';
  });
}

export function interpolateDocument(doc: Document, env: NodeJS.ProcessEnv): void {
  visit(doc, {
    Scalar(key, node) {
      if (key === 'key') return; // only values are interpolated
      if (isScalar(node) && typeof node.value === 'string') node.value = interpolateString(node.value, env);
    },
  });
}
