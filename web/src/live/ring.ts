/**
 * A bounded ring of chart rows outside React state: x (seconds) and one column per series. Pushing
 * past capacity overwrites the oldest row; nothing grows with the length of a run. `aligned()`
 * gives uPlot's data layout (oldest first), built once per frame by the caller, not per sample.
 */
export type Aligned = [number[], ...(number | null)[][]];

export class Ring {
  readonly capacity: number;
  private readonly xs: Float64Array;
  private readonly cols: Float64Array[] = [];
  private head = 0; // index of the next write
  private size = 0;
  /** bumps on every change, so a frame loop can tell whether to redraw */
  version = 0;

  constructor(capacity: number, columns = 0) {
    if (!(capacity > 0)) throw new Error("a ring needs a positive capacity");
    this.capacity = capacity;
    this.xs = new Float64Array(capacity);
    for (let i = 0; i < columns; i++) this.addColumn();
  }

  get length(): number {
    return this.size;
  }

  get columns(): number {
    return this.cols.length;
  }

  /** A new series; earlier rows have no value in it (NaN, a gap). */
  addColumn(): number {
    this.cols.push(new Float64Array(this.capacity).fill(Number.NaN));
    this.version++;
    return this.cols.length - 1;
  }

  private slot(fromNewest: number): number {
    return (this.head - 1 - fromNewest + this.capacity) % this.capacity;
  }

  /** The x of the newest row, or null when empty. */
  lastX(): number | null {
    return this.size ? (this.xs[this.slot(0)] ?? null) : null;
  }

  /** Append a row at x (values missing for columns not given), or fill in the newest row when x is its x. */
  put(x: number, column: number, value: number | null): void {
    while (column >= this.cols.length) this.addColumn();
    const last = this.lastX();
    if (last !== null && x < last) return; // older than what is shown: the chart only moves forward
    if (last === null || x > last) {
      const at = this.head;
      this.xs[at] = x;
      for (const col of this.cols) col[at] = Number.NaN;
      this.head = (this.head + 1) % this.capacity;
      this.size = Math.min(this.size + 1, this.capacity);
    }
    const col = this.cols[column];
    if (col) col[this.slot(0)] = value === null ? Number.NaN : value;
    this.version++;
  }

  /** Rows oldest first, in uPlot's layout (null where a value is missing). */
  aligned(): Aligned {
    const n = this.size;
    const start = (this.head - n + this.capacity) % this.capacity;
    const x = new Array<number>(n);
    const ys = this.cols.map(() => new Array<number | null>(n));
    for (let i = 0; i < n; i++) {
      const at = (start + i) % this.capacity;
      x[i] = this.xs[at] ?? 0;
      this.cols.forEach((col, c) => {
        const v = col[at] ?? Number.NaN;
        (ys[c] as (number | null)[])[i] = Number.isNaN(v) ? null : v;
      });
    }
    return [x, ...ys];
  }
}
