// A thin Preact wrapper around uPlot: time on x, one or two y scales, lines,
// areas or bars, resized with its container.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { html, useEffect, useRef } from './html.js';

export interface SeriesSpec {
  label: string;
  color: string;
  kind?: 'line' | 'area' | 'bars';
  /** y scale key; series sharing one share an axis. Default 'y'. */
  scale?: string;
  format?: (v: number) => string;
}

export interface AxisSpec {
  scale: string;
  format: (v: number) => string;
  /** 3 = left (default), 1 = right. */
  side?: 1 | 3;
}

export interface ChartProps {
  /** [x seconds[], ...one array per series] */
  data: uPlot.AlignedData;
  series: SeriesSpec[];
  axes?: AxisSpec[];
  height?: number;
  /** Bucket width in seconds, for bars: pads the x range by half a bucket on each side. */
  step?: number;
  /** Ticks as time of day (live charts) instead of dates. */
  clock?: boolean;
  label?: string;
}

const AXIS = { stroke: '#5d6470', grid: { stroke: '#eef0f3', width: 1 }, ticks: { stroke: '#e3e6eb', width: 1, size: 4 }, font: '11px system-ui, sans-serif' };

function options(props: ChartProps, width: number): uPlot.Options {
  const height = props.height ?? 200;
  const bars = uPlot.paths.bars!({ size: [0.7, 48], gap: 1 });
  const axes = props.axes ?? [{ scale: 'y', format: (v: number) => String(v) }];
  return {
    width,
    height,
    padding: [10, 10, 0, 4],
    cursor: { drag: { x: false, y: false, setScale: false }, points: { size: 7 } },
    legend: { show: true, live: true },
    scales: {
      x: {
        time: true,
        ...(props.step ? { range: (_u: uPlot, min: number, max: number): uPlot.Range.MinMax => [min - props.step! / 2, max + props.step! / 2] } : {}),
      },
      ...Object.fromEntries(axes.map((a) => [a.scale, { range: (_u: uPlot, _min: number, max: number): uPlot.Range.MinMax => [0, max > 0 ? max * 1.1 : 1] }])),
    },
    axes: [
      {
        ...AXIS,
        space: 60,
        ...(props.clock ? { values: (_u: uPlot, splits: number[]) => splits.map((s) => new Date(s * 1000).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' })) } : {}),
      },
      ...axes.map((a) => ({
        ...AXIS,
        scale: a.scale,
        side: a.side ?? 3,
        size: 58,
        ...(a.side === 1 ? { grid: { show: false } } : {}),
        values: (_u: uPlot, splits: number[]) => splits.map((v) => a.format(v)),
      })),
    ],
    series: [
      { value: (_u, v) => (v === null ? '–' : new Date(v * 1000).toLocaleString('en-GB', { dateStyle: 'short', timeStyle: props.clock ? 'medium' : 'short' })) },
      ...props.series.map(
        (s): uPlot.Series => ({
          label: s.label,
          stroke: s.color,
          width: s.kind === 'bars' ? 0 : 2,
          scale: s.scale ?? 'y',
          points: { show: false },
          ...(s.kind === 'bars' ? { paths: bars, fill: s.color } : s.kind === 'area' ? { fill: `${s.color}26` } : {}),
          value: (_u, v) => (v === null || v === undefined ? '–' : (s.format ?? String)(v)),
        }),
      ),
    ],
  };
}

/** The chart; recreated when its series change, given new data otherwise. */
export function Chart(props: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = JSON.stringify([props.series.map((s) => [s.label, s.kind, s.scale]), props.height, props.step, props.axes?.map((a) => a.scale)]);

  useEffect(() => {
    const el = box.current!;
    const u = new uPlot(options(props, Math.max(el.clientWidth, 200)), props.data, el);
    plot.current = u;
    const resize = new ResizeObserver(() => {
      const width = Math.max(el.clientWidth, 200);
      if (width !== u.width) u.setSize({ width, height: props.height ?? 200 });
    });
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [shape]);

  useEffect(() => {
    plot.current?.setData(props.data);
  }, [props.data]);

  return html`<div class=${props.clock ? 'chart clock' : 'chart'} ref=${box} role="img" aria-label=${props.label ?? props.series.map((s) => s.label).join(', ')}></div>`;
}
