// A line chart (uPlot) sized to its container, with the same figures in a table for those who do not see
// it: the chart is a picture of the table, not the only place its numbers are.
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";

export type Series = { label: string; values: Array<number | null>; color: string };

export function LineChart({
  title,
  x,
  xLabel,
  series,
  unit,
  wholeX = false,
}: {
  /** Whether x only takes whole values (epochs): no ticks between them. */
  wholeX?: boolean;
  title: string;
  x: number[];
  xLabel: string;
  series: Series[];
  unit: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = box.current;
    if (!element || x.length === 0) return;
    const width = () => Math.max(200, element.clientWidth);
    const plot = new uPlot(
      {
        width: width(),
        height: 220,
        title,
        scales: { x: { time: false } },
        axes: [
          wholeX ? { label: xLabel, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] } : { label: xLabel },
          { label: unit },
        ],
        series: [{ label: xLabel }, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2 }))],
      },
      [x, ...series.map((s) => s.values)] as uPlot.AlignedData,
      element,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: width(), height: 220 }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [title, x, xLabel, series, unit, wholeX]);
  return <div class="chart" ref={box} role="img" aria-label={`${title} (figures in the table below)`} />;
}
