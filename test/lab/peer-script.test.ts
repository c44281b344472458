import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "fs";
import os from "os";
import path from "path";
import { findPeerScript, PEER_SCRIPT_REL } from "../../lib/internal";

function tree(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "peer-script-"));
}

test("findPeerScript finds ../shared/peers beside the repo, and from a worktree two levels deeper", () => {
  const root = tree();
  const script = path.join(root, PEER_SCRIPT_REL);
  fs.mkdirSync(path.dirname(script), { recursive: true });
  fs.writeFileSync(script, "# peer\n");
  const repo = path.join(root, "main");
  const worktree = path.join(root, "wt", "speed");
  fs.mkdirSync(repo);
  fs.mkdirSync(worktree, { recursive: true });
  assert.deepEqual(findPeerScript(repo, {}), { path: script, found: true });
  assert.deepEqual(findPeerScript(worktree, {}), { path: script, found: true });
});

test("findPeerScript: PEER_BENCH wins; a missing peer names the first candidate", () => {
  const root = tree();
  const repo = path.join(root, "main");
  fs.mkdirSync(repo);
  const own = path.join(root, "mine.py");
  fs.writeFileSync(own, "# mine\n");
  assert.deepEqual(findPeerScript(repo, { PEER_BENCH: own }), { path: own, found: true });
  assert.deepEqual(findPeerScript(repo, { PEER_BENCH: path.join(root, "gone.py") }), {
    path: path.join(root, "gone.py"),
    found: false,
  });
  const missing = findPeerScript(repo, {});
  // no shared/peers anywhere above this temp tree (unless the machine has one at its root)
  if (!fs.existsSync(path.join("/", PEER_SCRIPT_REL))) {
    assert.deepEqual(missing, { path: path.join(root, PEER_SCRIPT_REL), found: false });
  }
});
