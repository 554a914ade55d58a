/**
 * Milliseconds on the machine's monotonic clock (CLOCK_MONOTONIC through libuv), with
 * sub-millisecond precision. Unlike `performance.timeOrigin + performance.now()`, a wall
 * clock fixed at each process's start, it reads the same in every process on one machine:
 * the mock's write and the client's read of one frame are compared across processes, and
 * two processes' time origins were seen 5 ms apart (every transit read negative).
 */
export function sharedClockMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
