/**
 * EVALSHA as the Redis store sends it: an ioredis `Command` whose RESP text is the script's
 * cached head (name, sha, key count, keys) plus its numbers, and whose reply is read as it
 * came. ioredis's generic path (`client.evalsha(…)`) spent ~34 K instructions a command
 * under callgrind, half of it `Array.prototype.flat` over the arguments (V8 runs it through
 * the runtime, element by element) and most of the rest concatenating the same sha and keys
 * into RESP again; the store sends two or three of them a request.
 *
 * Only the encoding is ours: ioredis still queues the command, matches its reply and owns the
 * connection. `args` holds the full argument list as ioredis's own command would, so
 * anything in ioredis that reads it (its debug log, say) sees the same command; and
 * `test/core/redis-script.test.ts` checks the text against ioredis's own encoding.
 */
import type { Command } from 'ioredis';

/** `super()` flattens its arguments: given none, it has nothing to walk. */
const NO_ARGS: string[] = [];
/** Buffers in, not strings: most replies are integers, and {@link textReply} converts the rest. */
const RAW_REPLY = { replyEncoding: null };

type CommandClass = typeof Command;
/** An EVALSHA command: `args` are `[sha, numkeys, …keys, …numbers]`, all text. */
export interface ScriptCommand extends Command {
  readonly args: string[];
  readonly promise: Promise<unknown>;
}
/** The class of {@link ScriptCommand}s one store makes: see {@link preEncodedCommand}. */
export type PreEncoded = new (name: string, args: string[], text: string) => ScriptCommand;

/**
 * A command class whose RESP text is written by its maker, as a subclass of the `Command`
 * of the ioredis the store loaded (loaded on first use, so never imported here). A store
 * makes it once, so ioredis's paths see one command shape for every script.
 */
export function preEncodedCommand(Base: CommandClass): PreEncoded {
  return class PreEncodedCommand extends Base implements ScriptCommand {
    declare args: string[];

    constructor(name: string, args: string[], private readonly text: string) {
      super(name, NO_ARGS, RAW_REPLY);
      this.args = args;
    }

    override toWritable(): string {
      return this.text;
    }
  };
}

/**
 * As ioredis writes a number: String(n), one byte per character; an integer past 2^53 in full
 * decimal (ioredis 6), not as String's `1e+21`.
 */
function numberText(n: number): string {
  return Number.isInteger(n) && !Number.isSafeInteger(n) ? BigInt(n).toString() : String(n);
}

/** One bulk string: `$<bytes>\r\n<text>\r\n`. */
function bulk(text: string): string {
  return `$${Buffer.byteLength(text)}\r\n${text}\r\n`;
}

/** What a script sends the same for every call in one group. */
interface Head {
  /** The caller's key names, to tell whether a cached head still fits. */
  readonly keys: readonly string[];
  /** `[sha, numkeys, …full keys]`, as ioredis's `args` starts. */
  readonly args: readonly string[];
  /** Their RESP text, without the array header (it counts the numbers too). */
  readonly text: string;
}

/** Heads kept per script; a client's group names come and go, so the map is bounded. */
const MAX_HEADS = 10_000;

/**
 * The EVALSHA commands of one script, each group's head encoded once.
 * @example
 * const calls = new ScriptCalls(preEncodedCommand(Command), sha, (group, key) => `aigw:{${group}}:${key}`);
 * client.sendCommand(calls.command('user:ann', ['count', 'count_at'], [1, 60000]));
 */
export class ScriptCalls {
  private readonly heads = new Map<string, Head>();
  private readonly shaText: string;

  constructor(
    private readonly Command: PreEncoded,
    private readonly sha: string,
    private readonly fullKey: (group: string, key: string) => string,
    /** How many of the leading keys the script's Lua uses (`AtomicScript.redisKeys`); the rest are not sent. */
    private readonly keyCount = Infinity,
  ) {
    this.shaText = `$7\r\nevalsha\r\n${bulk(sha)}`;
  }

  /** EVALSHA of this script over `keys` in `group`, with `numbers` as its ARGV after the keys. */
  command(group: string, keys: readonly string[], numbers: readonly number[]): ScriptCommand {
    const head = this.head(group, keys);
    const args = head.args.slice();
    let text = `*${1 + head.args.length + numbers.length}\r\n${head.text}`;
    for (let i = 0; i < numbers.length; i++) {
      const s = numberText(numbers[i]!);
      args.push(s);
      text += `$${s.length}\r\n${s}\r\n`;
    }
    return new this.Command('evalsha', args, text);
  }

  private head(group: string, keys: readonly string[]): Head {
    const cached = this.heads.get(group);
    if (cached !== undefined && sameKeys(cached.keys, keys)) return cached;
    if (this.heads.size >= MAX_HEADS) this.heads.clear();
    const count = Math.min(keys.length, this.keyCount);
    const args = [this.sha, String(count)];
    for (let i = 0; i < count; i++) args.push(this.fullKey(group, keys[i]));
    let text = this.shaText;
    for (let i = 1; i < args.length; i++) text += bulk(args[i]);
    const head: Head = { keys: keys.slice(), args, text };
    this.heads.set(group, head);
    return head;
  }
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * A raw reply as ioredis would have decoded it for a string command: bulk strings (Buffers
 * here) as UTF-8 text, integers and nested arrays kept. Arrays are converted in place.
 */
export function textReply(reply: unknown): unknown {
  if (Array.isArray(reply)) {
    for (let i = 0; i < reply.length; i++) {
      const v: unknown = reply[i];
      if (typeof v !== 'number') reply[i] = textReply(v);
    }
    return reply;
  }
  return Buffer.isBuffer(reply) ? reply.toString('utf8') : reply;
}
