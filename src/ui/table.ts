import Table from "cli-table3";

/**
 * A plain table: no borders, so it copies cleanly into tickets and reads well without colour. With `colWidths` (each
 * column's width with its 2 spaces of padding) cells longer than their column wrap at word boundaries.
 */
export function renderTable(head: string[], rows: string[][], layout: { colWidths?: number[] } = {}): string {
  const table = new Table({
    head,
    ...(layout.colWidths ? { colWidths: layout.colWidths, wordWrap: true, wrapOnWordBoundary: true } : {}),
    style: { head: [], border: [], "padding-left": 0, "padding-right": 2 },
    chars: {
      top: "", "top-mid": "", "top-left": "", "top-right": "",
      bottom: "", "bottom-mid": "", "bottom-left": "", "bottom-right": "",
      left: "", "left-mid": "", mid: "", "mid-mid": "",
      right: "", "right-mid": "", middle: "",
    },
  });
  // Words longer than their column are broken across lines (cli-table3 would cut them with "…" and lose the rest).
  const fit = (cell: string, i: number) => {
    const room = (layout.colWidths?.[i] ?? 0) - 2;
    if (room <= 0) return cell;
    return cell
      .split(" ")
      .map((word) => (visibleLength(word) > room && visibleLength(word) === word.length ? (word.match(new RegExp(`.{1,${room}}`, "g")) ?? [word]).join("\n") : word))
      .join(" ");
  };
  table.push(...rows.map((row) => row.map(fit)));
  return table.toString().split("\n").map((l) => l.trimEnd()).join("\n");
}

/** An id cut to `max` characters in the middle ("arn:aws:…/000000000100003e"); an ARN first loses its partition, service, region and account. */
export function shortenId(id: string, max: number): string {
  const text = id.startsWith("arn:") ? id.split(":").slice(5).join(":") : id;
  if (text.length <= max) return text;
  const tail = Math.ceil((max - 1) * 0.6);
  return `${text.slice(0, max - 1 - tail)}…${text.slice(text.length - tail)}`;
}

/** Visible length (without ANSI colour codes). */
export const visibleLength = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, "").length;
