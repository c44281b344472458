import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "fs";
import os from "os";
import path from "path";
import { kernelSpec, installKernel, KERNEL_NAME } from "../../lib/tooling/kernelspec";

test("the kernelspec starts tslab from the project root with Jupyter's connection file", () => {
  const spec = kernelSpec("/home/me/lst lab", "/home/me/lst lab/node_modules/tslab/bin/tslab", "/usr/bin/node");
  assert.deepEqual(spec.argv, [
    "/bin/sh",
    "-c",
    `cd '/home/me/lst lab' && exec '/usr/bin/node' --import tsx '/home/me/lst lab/node_modules/tslab/bin/tslab' kernel --config-path "$0"`,
    "{connection_file}",
  ]);
  assert.equal(spec.language, "typescript");
  assert.equal(spec.display_name, "LST Lab (TypeScript)");
  assert.throws(() => kernelSpec("relative", "/x/tslab"), /absolute paths/);
});

test("installing writes kernel.json under <prefix>/share/jupyter/kernels/lst-lab", () => {
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), "lst-kernel-"));
  try {
    const root = path.resolve(__dirname, "..", "..");
    const file = installKernel(root, { prefix });
    assert.equal(file, path.join(prefix, "share", "jupyter", "kernels", KERNEL_NAME, "kernel.json"));
    const spec = JSON.parse(fs.readFileSync(file, "utf8"));
    assert.match(spec.argv[2], /kernel --config-path "\$0"$/);
    assert.ok(spec.argv[2].includes(`cd '${root}' && exec '${process.execPath}' --import tsx `));
  } finally {
    fs.rmSync(prefix, { recursive: true, force: true });
  }
});
