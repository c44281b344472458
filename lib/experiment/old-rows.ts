/**
 * Old-rule rows that a paired verdict has superseded, dropped from a results document.
 *
 * docs/results.md keeps, under each section's "Earlier measurements", the verdicts of runs that are gone, judged
 * under the old 2-spread rule and marked "not re-paired". Once a grid is rerun, the generated block of the same
 * section holds a paired row for the same finding id, and the old row only repeats a weaker claim. So
 * `npm run results` drops it:
 *
 *   dropSuperseded(doc)   every table row whose finding id also has a paired row (reproduces, contradicts,
 *                         inconclusive) and whose own verdict is "not re-paired" goes; a table left with only its
 *                         header and separator goes with it. Every other line stays as it is.
 *
 * Worked example (a paired row for `g:a>b:hs-macro` exists elsewhere in the doc):
 *
 *   | finding (id) | ... |              | finding (id) | ... |      <- a table with another old row keeps its header
 *   |---|...|                           |---|...|
 *   | ... `g:a>b:hs-macro` ... | ->      | ... `g:c>d:hs-macro` ... |
 *   | ... `g:c>d:hs-macro` ... |
 *
 * and a table whose only row was `g:a>b:hs-macro` disappears, header, separator and the blank line after it.
 */
import { PAIRED, verdictRowOf, type DocVerdictRow } from "./results-doc";
import { FINDINGS, findingId, type Finding } from "./findings";

/** See the header. Returns the document and the ids of the rows it dropped, in order. */
export function dropSuperseded(
  doc: string,
  findings: readonly Finding[] = FINDINGS,
): { doc: string; dropped: string[] } {
  const ids = new Set(findings.map(findingId));
  const lines = doc.split("\n");
  const rows = lines.map((line) => verdictRowOf(line, ids));
  const paired = new Set(
    rows.filter((r): r is DocVerdictRow => r !== null && PAIRED.includes(r.verdict)).map((r) => r.id),
  );
  const dropped: string[] = [];
  const keep = rows.map((row) => {
    if (row === null || row.verdict !== "not re-paired" || !paired.has(row.id)) return true;
    dropped.push(row.id);
    return false;
  });
  if (dropped.length === 0) return { doc, dropped };
  // a table is a run of "|" lines; one whose rows all went (header + separator left) goes whole
  const out: string[] = [];
  for (let i = 0; i < lines.length;) {
    if (!lines[i].startsWith("|")) {
      out.push(lines[i]);
      i++;
      continue;
    }
    let j = i;
    while (j < lines.length && lines[j].startsWith("|")) j++;
    const kept = lines.slice(i, j).filter((_, k) => keep[i + k]);
    const emptied = kept.length === 2 && j - i > 2 && /^\|[-| :]+\|$/.test(kept[1]);
    if (!emptied) out.push(...kept);
    else if (j < lines.length && lines[j] === "" && out.length > 0 && out[out.length - 1] === "") j++;
    i = j;
  }
  return { doc: out.join("\n"), dropped };
}
