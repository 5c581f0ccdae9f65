/** Requests per second of one rate tier over the last minute, against its burst limit; 429s red, faults orange. */
import type { TierRates } from "./model";
import { chartModel } from "./rates";

const W = 300;
const H = 90;
const PAD_LEFT = 26;
const PAD_BOTTOM = 14;
const PAD_TOP = 6;

export function RateChart({ tier, now }: { tier: TierRates; now: number }) {
  const m = chartModel(tier, now);
  const plotW = W - PAD_LEFT - 2;
  const plotH = H - PAD_BOTTOM - PAD_TOP;
  const slotW = plotW / m.slots;
  const y = (v: number) => PAD_TOP + plotH - (Math.min(v, m.yMax) / m.yMax) * plotH;
  const x = (slot: number) => PAD_LEFT + slot * slotW;
  const barW = Math.max(1, slotW - 1);
  const limits =
    m.burst === null
      ? "limits off"
      : `burst ${m.burst}/s${m.steady === null ? "" : ` · steady ${m.steady}/min`}`;
  return (
    <figure class="rate-chart">
      <figcaption>
        <strong>{m.tier}</strong>
        <span class="rate-totals">
          {m.total} req
          {m.throttled > 0 && <span class="bad-text"> · {m.throttled} × 429</span>}
          {m.faults > 0 && (
            <span class="warn-text">
              {" "}
              · {m.faults} {m.faults === 1 ? "fault" : "faults"}
            </span>
          )}
        </span>
        <span class="muted small-text rate-limits">{limits}</span>
      </figcaption>
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`${m.tier}: ${m.total} requests, ${m.throttled} throttled, ${m.faults} faults in the last minute`}
        data-testid={`rate-chart-${m.tier}`}
      >
        <line class="axis" x1={PAD_LEFT} x2={W - 2} y1={y(0)} y2={y(0)} />
        <text class="tick" x={PAD_LEFT - 4} y={y(m.yMax) + 4} text-anchor="end">
          {m.yMax}
        </text>
        <text class="tick" x={PAD_LEFT - 4} y={y(0)} text-anchor="end">
          0
        </text>
        <text class="tick" x={PAD_LEFT} y={H - 2}>
          −60 s
        </text>
        <text class="tick" x={W - 2} y={H - 2} text-anchor="end">
          now
        </text>
        {m.bars.map((b) => {
          // The bar is every request of the second: 429s at its top in red, other faults under them in orange
          // (a fault that was itself a 429 stays red), the rest blue; an orange dot above marks any fault.
          const red = Math.min(b.throttled, b.requests);
          const orange = Math.min(b.faults, b.requests - red);
          const blue = b.requests - red - orange;
          const left = x(b.slot);
          const blueTop = y(blue);
          const orangeTop = y(blue + orange);
          const redTop = y(blue + orange + red);
          const when = new Date(b.t).toLocaleTimeString();
          return (
            <g key={b.t}>
              <title>{`${when}: ${b.requests} requests${b.throttled ? `, ${b.throttled} × 429` : ""}${b.faults ? `, ${b.faults} faults` : ""}`}</title>
              {blue > 0 && <rect class="bar" x={left} y={blueTop} width={barW} height={y(0) - blueTop} />}
              {orange > 0 && (
                <rect class="bar-fault" x={left} y={orangeTop} width={barW} height={blueTop - orangeTop} />
              )}
              {b.throttled > 0 && (
                <rect
                  class="bar-throttled"
                  data-testid="throttled-mark"
                  x={left}
                  y={Math.min(redTop, y(0) - 1.5)}
                  width={barW}
                  height={Math.max(1.5, orangeTop - redTop)}
                />
              )}
              {b.faults > 0 && (
                <circle
                  class="fault-dot"
                  data-testid="fault-mark"
                  cx={left + barW / 2}
                  cy={Math.max(PAD_TOP, redTop - 3.5)}
                  r={1.8}
                />
              )}
            </g>
          );
        })}
        {m.burst !== null && m.burstOffScale && (
          <g class="limit off-scale">
            <text x={W - 4} y={PAD_TOP + 6} text-anchor="end">
              burst {m.burst}/s ↑
            </text>
          </g>
        )}
        {m.burst !== null && !m.burstOffScale && (
          <g class="limit">
            <line x1={PAD_LEFT} x2={W - 2} y1={y(m.burst)} y2={y(m.burst)} />
            <text x={W - 4} y={y(m.burst) - 2} text-anchor="end">
              {m.burst}/s
            </text>
          </g>
        )}
      </svg>
    </figure>
  );
}
