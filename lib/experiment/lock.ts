/**
 * The lock on a run directory, safe for many writers on one machine or on a filesystem shared by many hosts.
 * Every writer of a run directory takes it: the run store (`RunStore.ensure`) and `scripts/train.ts --runDir`.
 *
 *   <dir>/lock   {"host":"node7","pid":4242,"token":"…","startedAt":"…","heartbeatAt":"…","beats":12,"procStart":"…"}
 *
 * Taking it: the file is created exclusively (open with O_CREAT|O_EXCL, `wx`), so of many processes exactly one
 * wins, and it holds the holder's host, pid, a random token and a heartbeat.
 *
 * The heartbeat: a worker thread rewrites `heartbeatAt`/`beats` every `heartbeatMs` through the descriptor the
 * holder created the file with (and fsyncs it, so other NFS clients see it). A thread, not a timer: `train()`
 * does not yield inside its loop, and a dataset build or an evaluation can block the event loop for minutes,
 * so a timer on the main thread would never fire (measured before this module: the lock's time never changed
 * in a 33 s run). The worker runs whatever the main thread does, and dies with the process. It writes in place
 * through its own descriptor, never by rename, so a holder that lost its lock can only touch its own orphaned
 * file, never the new holder's. The lock is the one file of a run directory not written by rename.
 *
 * Judging a lock someone else holds (live, stale, or held by a process that died): lock-judge.ts.
 *
 * Taking over a stale lock is a rename to a name of our own (only one process can move a given file), then a
 * check that what we moved is the lock we judged: if it is not (its holder refreshed it, or another waiter
 * already replaced it), it is put back with link(), which never overwrites. Then the usual exclusive create.
 * A holder whose lock was taken over finds out at its next `check()` (the run store calls it every training
 * step and before writing results) and stops with an error, before writing a checkpoint or a result.
 */
import fs from "fs";
import os from "os";
import { randomBytes } from "crypto";
import { Worker } from "worker_threads";
import { judgeLock, parseLock, procStart, secs, type LockInfo, type LockVerdict } from "./lock-judge";

export { judgeLock, parseLock, pidAlive, procStart, type LockInfo, type LockVerdict } from "./lock-judge";

export interface LockOptions {
  /** a lock whose heartbeat is older than this (or unchanged this long) is taken over (ms), default 2 min */
  staleMs?: number;
  /** how often the holder refreshes its heartbeat (ms), default 10 s */
  heartbeatMs?: number;
  /** how often a waiter looks again (ms), default 500 */
  pollMs?: number;
  /** a waiter says what it waits for once, then again every this many ms, default 60 s */
  noticeMs?: number;
  /** where waiting and take-over messages go (default stderr, so a CLI's stdout stays clean) */
  log?: (line: string) => void;
}

export const LOCK_DEFAULTS = { staleMs: 2 * 60 * 1000, heartbeatMs: 10 * 1000, pollMs: 500, noticeMs: 60 * 1000 };
/** the lock file's fixed size: a heartbeat rewrites the whole file in one write, so it never shrinks */
const LOCK_BYTES = 512;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function encode(info: LockInfo): Buffer {
  const buf = Buffer.alloc(LOCK_BYTES, " ");
  buf.write(JSON.stringify(info));
  buf[LOCK_BYTES - 1] = 10; // "\n"
  return buf;
}

/** The lock's current text and inode, or null if there is no lock. An error names the path and the fix. */
function look(file: string): { raw: string; mtimeMs: number } | null {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
    if (!st.isFile())
      throw new Error(
        `the lock ${file} is a ${st.isDirectory() ? "directory" : "special file"}, not a lock file: nothing of the lab makes that; remove it (\`rm -r ${file}\`) once no process uses the run directory, and run again`,
      );
    return { raw: fs.readFileSync(file, "utf8"), mtimeMs: st.mtimeMs };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return null;
    if (code === undefined) throw e;
    throw new Error(
      `cannot read the lock ${file} (${(e as Error).message}): its run directory must be a directory readable by this user on this host`,
    );
  }
}

/** The heartbeat thread's code (plain JS, evaluated in a worker without the TS loader). */
const HEARTBEAT = `
const { workerData } = require("worker_threads");
const fs = require("fs");
const { fd, file, info, everyMs, size } = workerData;
const flags = new Int32Array(workerData.shared);
let beats = info.beats;
const timer = setInterval(() => {
  try {
    const own = fs.fstatSync(fd);
    const now = fs.statSync(file);
    if (own.ino !== now.ino || own.dev !== now.dev) throw Object.assign(new Error("replaced"), { code: "ENOENT" });
    beats++;
    const buf = Buffer.alloc(size, " ");
    buf.write(JSON.stringify({ ...info, heartbeatAt: new Date().toISOString(), beats }));
    buf[size - 1] = 10;
    fs.writeSync(fd, buf, 0, size, 0);
    fs.fsyncSync(fd);
    Atomics.store(flags, 1, beats);
  } catch (e) {
    if (e.code === "ENOENT" || e.code === "ESTALE") { Atomics.store(flags, 0, 1); clearInterval(timer); }
  }
}, everyMs);
`;

/** A lock this process holds. `check()` throws once it was taken over; `release()` lets go of it. */
export class HeldLock {
  readonly file: string;
  readonly info: LockInfo;
  private fd: number | null;
  private readonly worker: Worker;
  private readonly flags: Int32Array;
  private lastCheck = 0;

  constructor(file: string, fd: number, info: LockInfo, heartbeatMs: number) {
    this.file = file;
    this.fd = fd;
    this.info = info;
    const shared = new SharedArrayBuffer(8);
    this.flags = new Int32Array(shared); // [lost, beats]
    this.worker = new Worker(HEARTBEAT, {
      eval: true,
      execArgv: [],
      workerData: { fd, file, info, everyMs: heartbeatMs, size: LOCK_BYTES, shared },
    });
    this.worker.unref();
  }

  /** Heartbeats written since the lock was taken. */
  get beats(): number {
    return Atomics.load(this.flags, 1);
  }

  /** True once another process took the lock over (or the file is gone). Looks at the file at most once a second. */
  get lost(): boolean {
    if (Atomics.load(this.flags, 0) === 1) return true;
    const now = Date.now();
    if (now - this.lastCheck < 1000) return false;
    this.lastCheck = now;
    if (this.fd === null || this.isOurs(this.file)) return false;
    Atomics.store(this.flags, 0, 1);
    return true;
  }

  /** Is `file` the inode we created? */
  private isOurs(file: string): boolean {
    try {
      const own = fs.fstatSync(this.fd as number);
      const cur = fs.statSync(file);
      return own.ino === cur.ino && own.dev === cur.dev;
    } catch {
      return false;
    }
  }

  /** Throw if the lock was taken over: call before writing anything into the locked directory. */
  check(): void {
    if (!this.lost) return;
    const now = look(this.file);
    const other = now ? parseLock(now.raw) : null;
    const by = other ? `host ${other.host} pid ${other.pid}` : "nobody (the lock file is gone)";
    throw new Error(
      `lost the lock ${this.file}: it is now held by ${by}, which judged this process's heartbeat stale (this process was ` +
        `frozen or its filesystem unreachable for longer than the stale limit?). Stopped before writing more; the run resumes from its checkpoint wherever it is run next.`,
    );
  }

  /** Let go of the lock: delete the file if it is still ours (moved aside first, so a new holder's is never deleted), stop the heartbeat. */
  release(): void {
    if (this.fd === null) return;
    void this.worker.terminate();
    const aside = `${this.file}.release-${process.pid}-${randomBytes(4).toString("hex")}`;
    try {
      fs.renameSync(this.file, aside);
      if (!this.isOurs(aside)) {
        // not ours any more: put the new holder's lock back (link never overwrites a newer one)
        try {
          fs.linkSync(aside, this.file);
        } catch {
          // yet another lock exists; leave it
        }
      }
      fs.rmSync(aside, { force: true });
    } catch {
      // already gone
    }
    fs.closeSync(this.fd);
    this.fd = null;
  }
}

/** One attempt to take the lock: the held lock, or null if the file exists. */
export function tryLock(file: string, opts: LockOptions = {}): HeldLock | null {
  const now = new Date().toISOString();
  const info: LockInfo = {
    host: os.hostname(),
    pid: process.pid,
    token: randomBytes(8).toString("hex"),
    startedAt: now,
    heartbeatAt: now,
    beats: 0,
    procStart: procStart(process.pid),
  };
  let fd: number;
  try {
    fd = fs.openSync(file, "wx");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return null;
    throw new Error(
      `cannot create the lock ${file} (${(e as Error).message}): the directory must exist and be writable by this user on this host`,
    );
  }
  fs.writeSync(fd, encode(info), 0, LOCK_BYTES, 0);
  fs.fsyncSync(fd);
  return new HeldLock(file, fd, info, opts.heartbeatMs ?? LOCK_DEFAULTS.heartbeatMs);
}

/**
 * Move a stale lock out of the way. True if we removed exactly the lock we judged (`raw`), false if someone
 * else changed or replaced it first (then it is left, or put back, as it was).
 */
export function takeOver(file: string, raw: string): boolean {
  const aside = `${file}.stale-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    fs.renameSync(file, aside);
  } catch {
    return false; // gone already: another waiter moved it
  }
  let moved = "";
  try {
    moved = fs.readFileSync(aside, "utf8");
  } catch {
    // unreadable: treat as not ours to remove
  }
  if (moved !== raw) {
    // we moved a lock that is alive (refreshed, or new since we looked): put it back unless a new one exists
    try {
      fs.linkSync(aside, file);
    } catch {
      // a third process created a lock meanwhile; the one we moved has lost it and its holder will stop
    }
    fs.rmSync(aside, { force: true });
    return false;
  }
  fs.rmSync(aside, { force: true });
  return true;
}

/**
 * Take the lock, waiting while another live process holds it and taking it over once it is stale. Returns
 * null without the lock as soon as `until()` is true (e.g. the run finished meanwhile).
 */
export async function acquireLock(
  file: string,
  opts: LockOptions & { until?: () => boolean } = {},
): Promise<HeldLock | null> {
  const staleMs = opts.staleMs ?? LOCK_DEFAULTS.staleMs;
  const pollMs = opts.pollMs ?? LOCK_DEFAULTS.pollMs;
  const noticeMs = opts.noticeMs ?? LOCK_DEFAULTS.noticeMs;
  const log = opts.log ?? ((line: string) => console.error(line));
  let seen = "";
  let seenSince = 0;
  let noticed = "";
  let noticedAt = 0;
  for (;;) {
    if (opts.until?.()) return null;
    const held = tryLock(file, opts);
    if (held) return held;
    const cur = look(file);
    if (!cur) continue; // released between our calls: try again at once
    const now = Date.now();
    if (cur.raw !== seen) {
      seen = cur.raw;
      seenSince = now;
    }
    const v = judgeLock(file, cur.raw, cur.mtimeMs, now - seenSince, staleMs, now);
    if (v.stale) {
      if (takeOver(file, cur.raw)) log(v.message);
      continue;
    }
    // say what we wait for once, then rarely (the message's first words stay the same while the holder does)
    const key = v.message.replace(/\d+ s/g, "");
    if (key !== noticed || now - noticedAt >= noticeMs) {
      log(v.message);
      noticed = key;
      noticedAt = now;
    }
    await sleep(pollMs);
  }
}

/**
 * Take the lock of a directory now or fail: for a process that must not wait (scripts/train.ts). A stale lock
 * (its holder gone, or its heartbeat too old) is taken over; a live one is an Error saying who holds it.
 */
export function lockNow(file: string, opts: LockOptions = {}): HeldLock {
  const staleMs = opts.staleMs ?? LOCK_DEFAULTS.staleMs;
  for (let attempt = 0; attempt < 5; attempt++) {
    const held = tryLock(file, opts);
    if (held) return held;
    const cur = look(file);
    if (!cur) continue;
    const v = judgeLock(file, cur.raw, cur.mtimeMs, 0, staleMs);
    if (!v.stale) {
      throw new Error(
        `${v.message.replace(/^waiting for /, "")}. Another process works in this directory; wait for it to finish or stop it. ` +
          `A lock whose holder died is taken over by the next start (at once on this host; from another host once its heartbeat is ${secs(staleMs)} old).`,
      );
    }
    if (takeOver(file, cur.raw)) (opts.log ?? console.error)(v.message);
  }
  throw new Error(`could not take the lock ${file}: other processes keep taking it; try again`);
}

/** Who holds a directory's lock now (for status displays), or null if nobody does. */
export function lockHolder(file: string, staleMs = LOCK_DEFAULTS.staleMs): LockVerdict | null {
  const cur = look(file);
  return cur ? judgeLock(file, cur.raw, cur.mtimeMs, 0, staleMs) : null;
}
