/**
 * What `bench/redis-capacity.ts` sends Redis: a checkout's GCRA script (its arm) and the
 * workloads built from it, each unit as the rate limiter sends it for one user: a gateway
 * request (the global and the user reserve), a reserve of either scope, an adjustment, and
 * the floor (a script that only returns). Limits, window and costs as that bench's header says.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { evalsha } from './resp-load.js';

/** One gateway request a write (the limiter's shape), and eight: the saturation figure. */
export const REQUEST_DEPTH = 2;
export const SATURATION_DEPTH = 16;

/** What the gateway sends: key prefix, window, limits, costs (see redis-capacity.ts's header). */
const PREFIX = 'aigw:';
const GLOBAL_GROUP = 'rl:global';
const WINDOW_MS = 60_000;
const GLOBAL_LIMITS = { requests: 100_000_000, tokens: 100_000_000_000 };
const USER_LIMITS = { requests: 600, tokens: 1_000_000 };
const TOKEN_ESTIMATE = 1000;
const ADJUST_TOKENS = -500;
/** The key names before limiter.ts exported `GCRA_KEYS`. */
const LEGACY_KEYS = ['rpm', 'rpm:at', 'tpm', 'tpm:at'];
/** The floor: a script that does nothing, sent the same keys and arguments. */
export const FLOOR_LUA = 'return 1';

interface GcraModule {
  gcra: { readonly lua: string; readonly redisKeys?: number };
  Mode: { readonly Reserve: number; readonly Adjust: number };
}
interface LimiterModule {
  GCRA_KEYS?: readonly string[];
}

export interface Arm {
  name: string;
  dir: string;
  lua: string;
  /** The key names sent to Redis: the first `redisKeys` of the scope's keys. */
  keys: readonly string[];
  mode: { reserve: number; adjust: number };
  sha: string;
  /** {@link FLOOR_LUA}'s SHA, loaded beside the arm's script. */
  floorSha: string;
}

/** A checkout's rate-limit script and the keys it is sent, read from its own sources. */
export async function loadArm(name: string, dir: string): Promise<Omit<Arm, 'sha' | 'floorSha'>> {
  const moduleUrl = (file: string): string => pathToFileURL(path.join(dir, 'filters/rate-limit', file)).href;
  const { gcra, Mode } = (await import(moduleUrl('gcra.ts'))) as GcraModule;
  const limiter = (await import(moduleUrl('limiter.ts'))) as LimiterModule;
  const keys = limiter.GCRA_KEYS ?? LEGACY_KEYS;
  return { name, dir, lua: gcra.lua, keys: keys.slice(0, gcra.redisKeys ?? keys.length), mode: { reserve: Mode.Reserve, adjust: Mode.Adjust } };
}

export interface Workload {
  name: string;
  /** Commands a batch: a multiple of `calls`. */
  depth: number;
  /** Commands a unit: 2 for a gateway request (global + user), else 1. */
  calls: number;
  /** One unit's commands, as RESP text, for the user whose group is `group`. */
  unit(arm: Arm, group: string): string;
  /** Untimed, after the flush: one command for each user of the pool. */
  prefill?(arm: Arm, group: string): string;
  /** Gateway requests a call answers for (the requests/s a core column): request only. */
  requestsPerCall?: number;
}

const fullKeys = (arm: Arm, group: string): string[] => arm.keys.map((key) => `${PREFIX}{${group}}:${key}`);

function reserve(arm: Arm, group: string, limits: { requests: number; tokens: number }, tokens = TOKEN_ESTIMATE): string {
  return evalsha(arm.sha, fullKeys(arm, group), [arm.mode.reserve, WINDOW_MS, limits.requests, limits.tokens, 1, Math.min(tokens, limits.tokens)]);
}

/** A reconcile as the limiter's `adjust` sends it: an unchanged dimension is skipped (limit -1). */
function adjust(arm: Arm, group: string): string {
  return evalsha(arm.sha, fullKeys(arm, group), [arm.mode.adjust, WINDOW_MS, -1, USER_LIMITS.tokens, 0, ADJUST_TOKENS]);
}

const floor = (arm: Arm, group: string): string =>
  evalsha(arm.floorSha, fullKeys(arm, group), [arm.mode.reserve, WINDOW_MS, USER_LIMITS.requests, USER_LIMITS.tokens, 1, TOKEN_ESTIMATE]);

const globalReserve = (arm: Arm): string => reserve(arm, GLOBAL_GROUP, GLOBAL_LIMITS);
const userReserve = (arm: Arm, group: string): string => reserve(arm, group, USER_LIMITS);

export const WORKLOADS: readonly Workload[] = [
  { name: 'request', depth: REQUEST_DEPTH, calls: 2, unit: (arm, group) => globalReserve(arm) + userReserve(arm, group), requestsPerCall: 0.5 },
  { name: 'request', depth: SATURATION_DEPTH, calls: 2, unit: (arm, group) => globalReserve(arm) + userReserve(arm, group), requestsPerCall: 0.5 },
  { name: 'user reserve', depth: SATURATION_DEPTH, calls: 1, unit: userReserve },
  { name: 'global reserve', depth: SATURATION_DEPTH, calls: 1, unit: globalReserve },
  { name: 'adjust', depth: SATURATION_DEPTH, calls: 1, unit: adjust, prefill: (arm, group) => reserve(arm, group, USER_LIMITS, USER_LIMITS.tokens) },
  { name: 'floor (return 1)', depth: SATURATION_DEPTH, calls: 1, unit: floor },
];
