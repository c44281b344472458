/**
 * Where the PyTorch peer (`../shared/peers/torch_lm_bench.py`) lives, for the speed bench and the GPU bundle.
 * `$PEER_BENCH` wins; otherwise the nearest `shared/peers/torch_lm_bench.py` in a directory above `from` (a git
 * worktree may sit a level or two deeper than the clone, so the search goes up to the filesystem root).
 * Example: from `<root>/main`, the candidates are `<root>/shared/peers/...`, then `/shared/peers/...`.
 */
import fs from "fs";
import path from "path";

export const PEER_SCRIPT_REL = path.join("shared", "peers", "torch_lm_bench.py");

export interface PeerScript {
  /** the peer's path: the one found, or (when none exists) the first candidate, for messages */
  path: string;
  found: boolean;
}

export function findPeerScript(from: string = process.cwd(), env: NodeJS.ProcessEnv = process.env): PeerScript {
  if (env.PEER_BENCH) return { path: path.resolve(env.PEER_BENCH), found: fs.existsSync(env.PEER_BENCH) };
  const first = path.resolve(from, "..", PEER_SCRIPT_REL);
  for (let dir = path.resolve(from, ".."); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, PEER_SCRIPT_REL);
    if (fs.existsSync(candidate)) return { path: candidate, found: true };
    if (path.dirname(dir) === dir) return { path: first, found: false };
  }
}
