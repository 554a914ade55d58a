/**
 * Safe path normalisation shared by pass-through providers: nothing a client sends may
 * leave the base URL's path. Dot segments (encoded or not, however often) and encoded
 * separators or control characters are refused before anything is forwarded.
 */
import { GatewayError } from '../../core/index.js';

/** Decoding rounds tried on each segment: double encoding (`%252e`) must not slip through. */
const DECODE_ROUNDS = 3;
/** What a decoded segment must not hold: a separator, a control character or a fragment mark. */
const UNSAFE_IN_SEGMENT = /[/\\\u0000-\u001f\u007f#]/;

function invalid(message: string): GatewayError {
  return new GatewayError('GW_ERR_REQUEST_INVALID', message);
}

/** The segment as the upstream (or anything behind it) might decode it, however often. */
function decoded(segment: string): string {
  let s = segment;
  for (let i = 0; i < DECODE_ROUNDS && s.includes('%'); i++) {
    try {
      s = decodeURIComponent(s);
    } catch {
      throw invalid('Request path has a malformed percent-encoding');
    }
  }
  return s;
}

/** A percent-encoded unreserved character (RFC 3986 §2.3): the same URI as the character itself. */
const ENCODED_UNRESERVED = /%(?:[46][1-9A-Fa-f]|[57][0-9Aa]|3[0-9]|2[dDeE]|5[fF]|7[eE])/g;

/** `segment` with its encoded unreserved characters written plainly, as RFC 3986 §6.2.2.2 normalises them. */
export function normalised(segment: string): string {
  return segment.includes('%') ? segment.replace(ENCODED_UNRESERVED, (e) => String.fromCharCode(parseInt(e.slice(1), 16))) : segment;
}

/**
 * Whether `subpath` is a file upload (Provider.isUpload): a cheap test of the raw path for
 * one of `words`, then its checked segments for `matches`. Run for every POST on the route,
 * so a generation pays a substring search, not a split. A path that spells the word encoded
 * (`%66iles`) fails the first test and is read whole like any other request, under
 * `max_body_bytes`: the safe way round for what only relaxes a limit.
 * @example
 * isUploadSubpath('/v1/files', ['files'], (s) => s.join('/') === 'v1/files') // true
 */
export function isUploadSubpath(subpath: string, words: readonly string[], matches: (segments: string[]) => boolean): boolean {
  if (!words.some((w) => subpath.includes(w))) return false;
  try {
    return matches(checkedSegments(subpath));
  } catch {
    return false; // refused again, as it should be, when the request is inspected
  }
}

/**
 * The non-empty segments of `subpath`, still encoded except for unreserved characters
 * (`%6Dessages` is `messages` to any server behind, so it must be to the providers'
 * classification of generation paths too), after checking each one.
 * @throws GatewayError 400 for a segment that could escape the base path.
 * @example
 * checkedSegments('/v1//chat/completions') // ['v1', 'chat', 'completions']
 */
export function checkedSegments(subpath: string): string[] {
  const kept: string[] = [];
  for (const raw of subpath.split('/')) {
    if (raw === '') continue; // `//` collapses; leading and trailing slashes are rebuilt
    const plain = decoded(raw);
    if (plain === '.' || plain === '..') throw invalid('Request path must not contain "." or ".." segments');
    if (UNSAFE_IN_SEGMENT.test(plain)) {
      throw invalid('Request path must not contain encoded slashes, backslashes or control characters');
    }
    kept.push(normalised(raw));
  }
  return kept;
}
