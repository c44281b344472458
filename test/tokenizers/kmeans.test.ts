import { test } from "node:test";
import assert from "node:assert/strict";
import { assignAll, kmeans, nearestCentroid } from "../../lib/tokenizers/kmeans";
import { Rng } from "../../lib/rng";

test("worked example: [0, 1, 10, 11] with k = 2 -> centroids 0.5 and 10.5, inertia 1", () => {
  const r = kmeans(Float32Array.from([0, 1, 10, 11]), 4, 1, { k: 2, seed: 1 });
  const c = Array.from(r.centroids).sort((a, b) => a - b);
  assert.deepEqual(c, [0.5, 10.5]);
  assert.equal(r.assignments[0], r.assignments[1]);
  assert.equal(r.assignments[2], r.assignments[3]);
  assert.notEqual(r.assignments[0], r.assignments[2]);
  assert.equal(r.inertia, 1);
});

/** n points around each of `centers` with unit Gaussian noise. */
function blobs(centers: number[][], n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const dim = centers[0].length;
  const x = new Float32Array(centers.length * n * dim);
  let i = 0;
  for (let p = 0; p < n; p++) for (const c of centers) for (let d = 0; d < dim; d++) x[i++] = c[d] + rng.normal();
  return x;
}

test("well-separated blobs are found: every centroid within 0.5 of a true centre, clusters pure", () => {
  const rng = new Rng(5);
  const dim = 8;
  const centers = Array.from({ length: 12 }, () => Array.from({ length: dim }, () => rng.normal() * 30));
  const n = 300;
  const x = blobs(centers, n, 9);
  const r = kmeans(x, centers.length * n, dim, { k: centers.length, seed: 3 });
  const used = new Set<number>();
  for (let c = 0; c < r.k; c++) {
    let best = -1;
    let bestD = Infinity;
    centers.forEach((t, ti) => {
      let d = 0;
      for (let j = 0; j < dim; j++) d += (r.centroids[c * dim + j] - t[j]) ** 2;
      if (d < bestD) [best, bestD] = [ti, d];
    });
    assert.ok(Math.sqrt(bestD) < 0.5, `centroid ${c} is ${Math.sqrt(bestD)} from the nearest centre`);
    used.add(best);
  }
  assert.equal(used.size, centers.length, "one centroid per blob");
  // points are generated blob-interleaved: point i belongs to blob i % 12
  for (let i = 0; i < centers.length * n; i++) assert.equal(r.assignments[i], r.assignments[i % centers.length]);
  assert.ok(r.inertia / (centers.length * n) < dim * 1.1, `inertia per point ${r.inertia / (centers.length * n)}`);
});

test("seeded: same seed same centroids, nearestCentroid agrees with the assignments", () => {
  const x = blobs(
    [
      [0, 0],
      [5, 5],
      [0, 5],
      [5, 0],
      [2, 2],
    ],
    100,
    2,
  );
  const a = kmeans(x, 500, 2, { k: 7, seed: 11 });
  const b = kmeans(x, 500, 2, { k: 7, seed: 11 });
  assert.deepEqual(a.centroids, b.centroids);
  assert.deepEqual(a.assignments, b.assignments);
  for (let i = 0; i < 500; i++) assert.equal(nearestCentroid(a.centroids, 7, x, i, 2).index, a.assignments[i]);
  assert.deepEqual(assignAll(a.centroids, 7, x, 500, 2), a.assignments);
  const c = kmeans(x, 500, 2, { k: 7, seed: 12 });
  assert.notDeepEqual(a.centroids, c.centroids);
});

test("duplicate points and k = n still work; bad inputs throw", () => {
  const same = kmeans(new Float32Array(20).fill(3), 10, 2, { k: 3, seed: 1 });
  assert.equal(same.inertia, 0);
  const all = kmeans(Float32Array.from([1, 2, 3]), 3, 1, { k: 3, seed: 1 });
  assert.deepEqual(Array.from(all.centroids).sort(), [1, 2, 3]);
  assert.throws(() => kmeans(new Float32Array(4), 2, 2, { k: 3, seed: 1 }), /2 points cannot make 3 clusters/);
  assert.throws(() => kmeans(new Float32Array(5), 2, 2, { k: 1, seed: 1 }), /expected n \* dim/);
  assert.throws(() => kmeans(new Float32Array(4), 2, 2, { k: 0, seed: 1 }), /k must be a positive integer/);
});
