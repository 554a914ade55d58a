/**
 * Model-name globs, as the config writes them wherever a model is matched (`models.rules`,
 * `model_patterns`, the validator's `models`, price-book keys): `*` is any run of characters,
 * none and line breaks included; every other character is itself. One compiler, so a model
 * id the client made odd (a newline, `\u2028`, regex metacharacters) is judged the same by
 * routing, the allowlist and the price book.
 *
 * Matched without a regular expression: `^.*a.*b.*$` backtracks polynomially on a long id
 * that nearly matches, and the id is the client's string. Here each literal piece is found
 * once, left to right, so a match costs one pass of `indexOf` per piece.
 */

/** True when the whole of `text` matches the glob it was compiled from. */
export type GlobMatcher = (text: string) => boolean;

/**
 * Compile a glob once, at config load.
 * @example
 * const isClaude = compileGlob('claude-*');
 * isClaude('claude-sonnet-4-5'); // true
 * isClaude('anthropic.claude-3'); // false
 */
export function compileGlob(glob: string): GlobMatcher {
  const pieces = glob.split('*');
  if (pieces.length === 1) return (text) => text === glob;
  const head = pieces[0];
  const tail = pieces[pieces.length - 1];
  // Runs of `*` are one `*`: empty middle pieces match anywhere.
  const middle = pieces.slice(1, -1).filter((p) => p !== '');
  const shortest = head.length + tail.length + middle.reduce((n, p) => n + p.length, 0);
  if (middle.length === 0) return (text) => text.length >= shortest && text.startsWith(head) && text.endsWith(tail);
  return (text) => {
    if (text.length < shortest || !text.startsWith(head) || !text.endsWith(tail)) return false;
    // The leftmost place of each piece leaves the most room for the next: no backtracking.
    const end = text.length - tail.length;
    let at = head.length;
    for (const piece of middle) {
      const found = text.indexOf(piece, at);
      if (found < 0 || found + piece.length > end) return false;
      at = found + piece.length;
    }
    return true;
  };
}
