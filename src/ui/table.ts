import Table from "cli-table3";

/** A plain table: no borders, so it copies cleanly into tickets and reads well without colour. */
export function renderTable(head: string[], rows: string[][]): string {
  const table = new Table({
    head,
    style: { head: [], border: [], "padding-left": 0, "padding-right": 2 },
    chars: {
      top: "", "top-mid": "", "top-left": "", "top-right": "",
      bottom: "", "bottom-mid": "", "bottom-left": "", "bottom-right": "",
      left: "", "left-mid": "", mid: "", "mid-mid": "",
      right: "", "right-mid": "", middle: "",
    },
  });
  table.push(...rows);
  return table.toString().split("\n").map((l) => l.trimEnd()).join("\n");
}
