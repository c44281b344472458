/**
 * Judging a run directory's lock that another process holds (lock.ts takes, refreshes and releases it): is
 * its holder alive, or may the lock be taken over? Read-only: nothing here writes the lock.
 *
 * `judgeLock`:
 *   - same host, its pid is gone                           -> stale now
 *   - same host, the pid now names a process started later -> stale now (the pid was reused)
 *   - same host, the holder is alive                       -> held (a live holder is never broken)
 *   - another host (a pid means nothing there), or no usable pid/start time
 *                                                          -> stale once its heartbeat is older than `staleMs`,
 *                                                             or once it has not changed for `staleMs` while we watch
 *   - empty or not a lab lock (a writer killed while creating it) -> stale once unchanged for `staleMs`
 * Reading the heartbeat's own time assumes the hosts' clocks agree to well within `staleMs` (NTP); watching it
 * change needs no clock agreement at all.
 */
import fs from "fs";
import os from "os";

export interface LockInfo {
  host: string;
  pid: number;
  token: string;
  startedAt: string;
  heartbeatAt: string;
  beats: number;
  /** the holder's start time from /proc (Linux), to tell a reused pid from the holder */
  procStart?: string;
}

export interface LockVerdict {
  stale: boolean;
  /** one line saying who holds the lock, or why it is stale */
  message: string;
  info: Partial<LockInfo> | null;
}

/** This process's start time in clock ticks since boot (Linux), or undefined elsewhere. */
export function procStart(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // fields after the ')' that ends the command name start at field 3; starttime is field 22
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

/** Is a process with this pid alive on this machine? (EPERM = alive but not ours.) */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** A lock's text as a lab lock, or null if it is empty or not one. */
export function parseLock(raw: string): (Partial<LockInfo> & Pick<LockInfo, "host" | "pid">) | null {
  try {
    const x = JSON.parse(raw) as Partial<LockInfo> & Pick<LockInfo, "host" | "pid">;
    return typeof x === "object" && x !== null && typeof x.host === "string" && typeof x.pid === "number" ? x : null;
  } catch {
    return null;
  }
}

const age = (iso: string | undefined, now: number): number => (iso ? now - Date.parse(iso) : NaN);
/** 125000 -> '125 s' (the lock's messages) */
export const secs = (ms: number): string => `${Math.round(ms / 1000)} s`;

/**
 * Judge a lock we do not hold. `raw` is its text, `mtimeMs` its modification time, `unchangedMs` how long this
 * waiter has seen exactly this text (0 on the first look).
 */
export function judgeLock(
  file: string,
  raw: string,
  mtimeMs: number,
  unchangedMs: number,
  staleMs: number,
  now = Date.now(),
): LockVerdict {
  const info = parseLock(raw);
  if (!info) {
    const quiet = Math.max(unchangedMs, now - mtimeMs);
    const what = raw.trim() === "" ? "empty" : "not a lab lock (garbage)";
    if (quiet >= staleMs)
      return {
        stale: true,
        info,
        message: `lock ${file} is ${what} and has not changed for ${secs(quiet)}: taking it over`,
      };
    return {
      stale: false,
      info,
      message: `lock ${file} is ${what} (a writer killed while creating it?): it is taken over if it stays so for ${secs(staleMs)}`,
    };
  }
  const who = `host ${info.host} pid ${info.pid}${info.startedAt ? ` since ${info.startedAt}` : ""}`;
  const hb = age(info.heartbeatAt, now);
  const beat = Number.isFinite(hb) ? `heartbeat ${secs(hb)} ago` : "no heartbeat time";
  if (info.host === os.hostname()) {
    if (!pidAlive(info.pid))
      return { stale: true, info, message: `lock ${file} names ${who}, which is gone: taking it over` };
    const start = procStart(info.pid);
    if (info.procStart !== undefined && start !== undefined && start !== info.procStart) {
      return {
        stale: true,
        info,
        message: `lock ${file} names ${who}, but that pid now belongs to another process (the holder died and the pid was reused): taking it over`,
      };
    }
    if (info.procStart !== undefined && start !== undefined) {
      const stopped =
        hb >= staleMs
          ? `; its holder is alive but its heartbeat stopped ${secs(hb)} ago (stopped with Ctrl-Z?): resume or kill it`
          : "";
      return { stale: false, info, message: `waiting for ${file}: held by ${who} on this host, ${beat}${stopped}` };
    }
  }
  // another host, or a holder whose identity we cannot check here: the heartbeat decides
  const quiet = Math.max(unchangedMs, Number.isFinite(hb) ? hb : 0);
  if (quiet >= staleMs)
    return {
      stale: true,
      info,
      message: `lock ${file} held by ${who} has a heartbeat ${secs(quiet)} old (stale after ${secs(staleMs)}): taking it over`,
    };
  return {
    stale: false,
    info,
    message: `waiting for ${file}: held by ${who}, ${beat} (taken over if it stops for ${secs(staleMs)})`,
  };
}
