/**
 * The CommonJS wrapper that `requireCached` compiles a file in (`code-cache.ts`), and a form
 * of it the build writes into its own bundles (`core/build/commonjs-bundle.ts`).
 *
 * Wrapping a file's text at load time (`prefix + text + suffix`) makes a cons string that V8
 * flattens before it compiles: a copy of the whole bundle, ~5 ms of a start for the app's
 * 0.9 MB alone. A bundle that opens with {@link SELF_WRAPPED} is its own wrapper and is
 * compiled as read. It still loads through Node's `require`: there the outer arrow sees
 * `this` as `module.exports`, not `globalThis`, and applies the function to the wrapper's
 * own arguments at once; as a script of its own (`vm.Script`) it evaluates to the function.
 * So a loader that wraps such a file again must call its wrapper as Node does, with `this`
 * bound to `module.exports` (`requireCached` does).
 */

/** Node's wrapper function, opened on the text's first line so that line numbers hold. */
const WRAPPER_OPEN = 'function (exports, require, module, __filename, __dirname) {';

/** The first line's opening in a bundle of the build's. */
export const SELF_WRAPPED = `((f) => this === globalThis ? f : f.apply(this, arguments))(${WRAPPER_OPEN}`;
/** The bundle's last line. */
export const SELF_WRAPPED_END = '});';

/** `text` as a script that evaluates to its CommonJS wrapper function. */
export function commonJsScript(text: string): string {
  return text.startsWith(SELF_WRAPPED) ? text : `(${WRAPPER_OPEN} ${text}\n})`;
}
