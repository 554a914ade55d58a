/**
 * What loading a config text says is wrong with it: the loader's issues, [] when it loads.
 */
import { parseConfig } from '../../core/config/load.js';
import { ConfigError, formatIssue } from '../../core/config/issues.js';

export function configIssues(text: string, file: string, env: NodeJS.ProcessEnv = {}): ConfigError['issues'] {
  try {
    parseConfig(text, file, env);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  return [];
}

/** {@link configIssues} as the loader prints them: `file:line:col: key: message`. */
export function formattedConfigIssues(text: string, file: string, env: NodeJS.ProcessEnv = {}): string[] {
  return configIssues(text, file, env).map(formatIssue);
}
