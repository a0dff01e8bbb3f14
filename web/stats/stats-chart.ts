import { html, svg, LitElement, css } from 'lit';

export type ChartPoint = { bucket: string; count: number; p90TotalMs: number | null };

/**
 * Request volume per time bucket (bars, left axis) and p90 total time (line, right axis), in
 * plain SVG: a few dozen points need no charting library.
 */
export class StatsChart extends LitElement {
  static override properties = { points: { attribute: false }, bucket: {} };
  declare points: ChartPoint[];
  declare bucket: 'hour' | 'day';

  static override styles = css`
    :host {
      display: block;
    }
    svg {
      width: 100%;
      height: auto;
      background: white;
      border: 1px solid #e3e6ea;
      border-radius: 6px;
    }
    .bar {
      fill: #9db8f5;
    }
    .line {
      fill: none;
      stroke: #b42318;
      stroke-width: 2;
    }
    .dot {
      fill: #b42318;
    }
    text {
      font:
        11px system-ui,
        sans-serif;
      fill: #475467;
    }
    .legend {
      display: flex;
      gap: 1rem;
      font-size: 0.85rem;
      color: #475467;
      margin-top: 0.25rem;
    }
    .swatch {
      display: inline-block;
      width: 0.8rem;
      height: 0.8rem;
      vertical-align: middle;
      margin-right: 0.3rem;
    }
  `;

  constructor() {
    super();
    this.points = [];
    this.bucket = 'day';
  }

  override render() {
    if (this.points.length === 0) return html``;
    const width = 720;
    const height = 220;
    const pad = { left: 44, right: 56, top: 12, bottom: 32 };
    const plotWidth = width - pad.left - pad.right;
    const plotHeight = height - pad.top - pad.bottom;
    const maxCount = Math.max(1, ...this.points.map((p) => p.count));
    const maxP90 = Math.max(1, ...this.points.map((p) => p.p90TotalMs ?? 0));
    const step = plotWidth / this.points.length;
    const x = (i: number) => pad.left + step * i + step / 2;
    const yCount = (count: number) => pad.top + plotHeight - (count / maxCount) * plotHeight;
    const yP90 = (ms: number) => pad.top + plotHeight - (ms / maxP90) * plotHeight;
    const label = (bucket: string) =>
      this.bucket === 'hour' ? `${bucket.slice(5, 10)} ${bucket.slice(11, 13)}h` : bucket.slice(5, 10);
    const every = Math.ceil(this.points.length / 12);
    const line = this.points
      .map((p, i) => (p.p90TotalMs === null ? null : `${x(i)},${yP90(p.p90TotalMs)}`))
      .filter(Boolean)
      .join(' ');
    return html`
      <svg viewBox="0 0 ${width} ${height}" role="img" aria-label="Requests and p90 total time per ${this.bucket}">
        ${this.points.map(
          (p, i) => svg`<rect class="bar" x=${x(i) - step * 0.35} width=${step * 0.7} y=${yCount(p.count)}
            height=${pad.top + plotHeight - yCount(p.count)}><title>${p.bucket}: ${p.count} requests, p90 ${p.p90TotalMs?.toFixed(0) ?? '—'} ms</title></rect>`,
        )}
        <polyline class="line" points=${line}></polyline>
        ${this.points.map((p, i) => (p.p90TotalMs === null ? '' : svg`<circle class="dot" cx=${x(i)} cy=${yP90(p.p90TotalMs)} r="2.5"></circle>`))}
        <text x="4" y=${pad.top + 8}>${maxCount}</text>
        <text x="4" y=${pad.top + plotHeight}>0</text>
        <text x=${width - pad.right + 6} y=${pad.top + 8}>${maxP90.toFixed(0)} ms</text>
        <text x=${width - pad.right + 6} y=${pad.top + plotHeight}>0 ms</text>
        ${this.points.map((p, i) => (i % every === 0 ? svg`<text x=${x(i)} y=${height - 10} text-anchor="middle">${label(p.bucket)}</text>` : ''))}
      </svg>
      <div class="legend">
        <span><span class="swatch" style="background:#9db8f5"></span>requests per ${this.bucket}</span>
        <span><span class="swatch" style="background:#b42318"></span>p90 total time</span>
      </div>
    `;
  }
}
customElements.define('stats-chart', StatsChart);

declare global {
  interface HTMLElementTagNameMap {
    'stats-chart': StatsChart;
  }
}
