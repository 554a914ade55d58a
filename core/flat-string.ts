/**
 * A string made with `+` or a template is a rope: a tree of its pieces, several times its
 * text's size (a 650-character line of ~40 pieces: ~5.7 KB of heap, ~0.7 KB flat). A rope
 * that lives on — queued, cached, reused in every chunk of a stream — is worth flattening
 * once: reading a character makes V8 flatten it in place, and the pieces become garbage.
 * (Converting it to a number, the older trick, no longer flattens.)
 * @example
 * this.head = flat(`data: ${id}{"choices":[`);
 */
export function flat(text: string): string {
  text.charCodeAt(0);
  return text;
}
