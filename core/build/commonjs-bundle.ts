/**
 * esbuild as every build step here runs it: one CommonJS file for Node 20, then rewritten
 * as ASCII (`ascii-only.ts`), so no bundle of ours reaches V8 as two-byte text.
 */
import { build, type BuildOptions } from 'esbuild';
import { SELF_WRAPPED, SELF_WRAPPED_END } from '../deps/commonjs-wrapper.js';
import { rewriteAsciiOnly } from './ascii-only.js';

/** Each bundle is its own CommonJS wrapper (see `core/deps/commonjs-wrapper.ts`), on its first and last lines. */
export async function bundleCommonJs(options: BuildOptions & { outfile: string }): Promise<void> {
  const banner = { ...options.banner, js: `${SELF_WRAPPED} ${options.banner?.js ?? ''}` };
  const footer = { ...options.footer, js: `${options.footer?.js ?? ''}\n${SELF_WRAPPED_END}` };
  await build({ bundle: true, format: 'cjs', platform: 'node', target: 'node20', logLevel: 'warning', ...options, banner, footer });
  rewriteAsciiOnly(options.outfile);
}
