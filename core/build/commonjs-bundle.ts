/**
 * esbuild as every build step here runs it: one CommonJS file for Node 20, then rewritten
 * as ASCII (`ascii-only.ts`), so no bundle of ours reaches V8 as two-byte text.
 */
import { build, type BuildOptions } from 'esbuild';
import { rewriteAsciiOnly } from './ascii-only.js';

export async function bundleCommonJs(options: BuildOptions & { outfile: string }): Promise<void> {
  await build({ bundle: true, format: 'cjs', platform: 'node', target: 'node20', logLevel: 'warning', ...options });
  rewriteAsciiOnly(options.outfile);
}
