import type { Registry } from 'prom-client';

// Counter and histogram families for the request path, registered in a
// prom-client registry (which writes the exposition). prom-client's own
// Counter and Histogram validate and hash the label object on every call
// (13 µs of CPU per request for this gateway's families, measured with
// test/bench/metrics-observer-cost.ts); here a caller resolves a series
// once, keeps it, and then only adds to a number.

type Labels = Record<string, string>;

interface Exported {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  values: Array<{ labels: Labels; value: number; metricName?: string }>;
  aggregator: 'sum';
}

abstract class Family<Cell extends { labels: Labels }> {
  readonly #cells = new Map<string, Cell>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    registry: Registry,
    /** Labels worked out when scraped rather than fixed with the series (an upstream key's current label). */
    private readonly decorate?: (labels: Labels) => Labels,
  ) {
    registry.registerMetric(this as never);
  }

  protected abstract create(labels: Labels): Cell;

  /** The series for these label values, in `labelNames` order. */
  series(...values: string[]): Cell {
    const key = values.length === 1 ? values[0]! : values.join('\u0000');
    let cell = this.#cells.get(key);
    if (!cell) {
      const labels: Labels = {};
      for (let i = 0; i < this.labelNames.length; i++) labels[this.labelNames[i]!] = values[i] ?? '';
      cell = this.create(labels);
      this.#cells.set(key, cell);
    }
    return cell;
  }

  protected cells(): Array<{ cell: Cell; labels: Labels }> {
    return [...this.#cells.values()].map((cell) => ({ cell, labels: this.decorate ? this.decorate(cell.labels) : cell.labels }));
  }

  abstract get(): Exported;
}

export class CounterSeries {
  value = 0;
  constructor(readonly labels: Labels) {}

  inc(n = 1): void {
    this.value += n;
  }
}

export class CounterFamily extends Family<CounterSeries> {
  readonly type = 'counter';

  protected create(labels: Labels): CounterSeries {
    return new CounterSeries(labels);
  }

  get(): Exported {
    return { name: this.name, help: this.help, type: 'counter', aggregator: 'sum', values: this.cells().map(({ cell, labels }) => ({ labels, value: cell.value })) };
  }
}

export class HistogramSeries {
  /** Per bucket (not cumulative), the last one +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

export class HistogramFamily extends Family<HistogramSeries> {
  readonly type = 'histogram';

  constructor(name: string, help: string, labelNames: readonly string[], readonly buckets: readonly number[], registry: Registry) {
    super(name, help, labelNames, registry);
  }

  protected create(labels: Labels): HistogramSeries {
    return new HistogramSeries(labels, this.buckets);
  }

  get(): Exported {
    const values: Exported['values'] = [];
    for (const { cell, labels } of this.cells()) {
      let cumulative = 0;
      for (let i = 0; i <= this.buckets.length; i++) {
        cumulative += cell.counts[i]!;
        values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: i < this.buckets.length ? String(this.buckets[i]) : '+Inf' }, value: cumulative });
      }
      values.push({ metricName: `${this.name}_sum`, labels, value: cell.sum });
      values.push({ metricName: `${this.name}_count`, labels, value: cell.count });
    }
    return { name: this.name, help: this.help, type: 'histogram', aggregator: 'sum', values };
  }
}
