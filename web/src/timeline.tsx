/**
 * The cycle timeline: one calendar axis (days, with "day N after the menses" under each date),
 * the bleeding band, today, birthdays (age limits), and one row per dated request, procedure
 * window, preparation step and collect Task. The same facts are listed in a table below it for
 * screen readers and for copying.
 */
import type { Patient } from '@medplum/fhirtypes';
import { addDays, ageMarks, daysBetween, type CycleFacts, type PlanItem } from './result-model.ts';

interface TimelineProps {
  items: PlanItem[];
  cycle: CycleFacts;
  patient: Patient | undefined;
  now: string;
}

const KIND_TEXT: Record<PlanItem['kind'], string> = {
  procedure: 'procedure window',
  preparation: 'preparation / work-up / aftercare',
  'do-not-perform': 'do not perform',
  collect: 'collect missing data',
};

const LABEL_WIDTH = 330;
const DAY_WIDTH = 34;
const ROW = 24;

export function Timeline({ items, cycle, patient, now }: TimelineProps) {
  const today = now.slice(0, 10);
  const dated = items.filter((i) => i.start);
  const dates = [today, ...dated.flatMap((i) => [i.start!, i.end ?? i.start!]), cycle.bleedingStart, cycle.bleedingEnd].filter((d): d is string => Boolean(d)).sort();
  const from = addDays(dates[0]!, -1);
  const to = addDays(dates[dates.length - 1]!, 2);
  const span = Math.min(daysBetween(from, to), 400);
  const marks = ageMarks(patient, from, to, items);
  const x = (date: string) => LABEL_WIDTH + Math.max(0, Math.min(span, daysBetween(from, date))) * DAY_WIDTH;
  const order: Record<PlanItem['kind'], number> = { procedure: 0, 'do-not-perform': 1, collect: 2, preparation: 3 };
  const rows = [...dated].sort((a, b) => (a.start! < b.start! ? -1 : a.start! > b.start! ? 1 : order[a.kind] - order[b.kind] || a.title.localeCompare(b.title)));
  const top = 54;
  const height = top + (rows.length + 1) * ROW + 30;
  const width = LABEL_WIDTH + (span + 1) * DAY_WIDTH;
  const menstrualDay = (date: string) => (cycle.bleedingEnd ? daysBetween(cycle.bleedingEnd, date) : undefined);
  const days = Array.from({ length: span + 1 }, (_, i) => addDays(from, i));
  const undated = items.filter((i) => !i.start);

  return (
    <section aria-labelledby="timeline-heading">
      <h2 id="timeline-heading">Cycle timeline</h2>
      <p class="legend">
        <span class="swatch bleeding" /> bleeding <span class="swatch procedure" /> procedure window <span class="swatch preparation" /> preparation, work-up, aftercare{' '}
        <span class="swatch now" /> now ({today}) <span class="swatch age" /> birthday / age limit. Under each date: the day after the end of the menses (day 1 = the day after
        bleeding ended).
      </p>
      <div class="scroll" tabIndex={0} role="region" aria-label="Cycle timeline chart">
        <svg width={width} height={height} role="img" aria-label={`Timeline from ${from} to ${to}`} class="timeline">
          {days.map((d) => (
            <g key={d}>
              <line x1={x(d)} x2={x(d)} y1={top - 6} y2={height - 20} class={d.endsWith('-01') ? 'grid month' : 'grid'} />
              {d === from || d.endsWith('-01') ? (
                <text x={x(d) + 3} y={12} class="axis month">
                  {d.slice(0, 7)}
                </text>
              ) : null}
              <text x={x(d) + 3} y={27} class="axis">
                {d.slice(8)}
              </text>
              {menstrualDay(d) !== undefined && menstrualDay(d)! > 0 ? (
                <text x={x(d) + 3} y={41} class="axis day">
                  d{menstrualDay(d)}
                </text>
              ) : null}
            </g>
          ))}
          {cycle.bleedingStart || cycle.bleedingEnd ? (
            <g>
              <rect
                x={x(cycle.bleedingStart ?? cycle.bleedingEnd!)}
                y={top}
                width={Math.max(DAY_WIDTH, x(addDays(cycle.bleedingEnd ?? today, 1)) - x(cycle.bleedingStart ?? cycle.bleedingEnd!))}
                height={ROW - 6}
                class="bleeding"
              />
              <text x={8} y={top + 13} class="row-label">
                Bleeding {cycle.bleedingStart ?? '?'} to {cycle.bleedingEnd ?? 'no end recorded'}
              </text>
            </g>
          ) : null}
          {rows.map((item, i) => {
            const y = top + (i + 1) * ROW;
            const end = item.openEnded ? to : addDays(item.end ?? item.start!, 1);
            return (
              <g key={`${item.actionId}-${String(i)}`}>
                <text x={8} y={y + 13} class="row-label">
                  {item.title.length > 48 ? `${item.title.slice(0, 47)}…` : item.title}
                </text>
                <rect x={x(item.start!)} y={y} width={Math.max(8, x(end) - x(item.start!))} height={ROW - 6} class={item.kind} />
              </g>
            );
          })}
          <line x1={x(today)} x2={x(today)} y1={top - 8} y2={height - 16} class="now" />
          <text x={x(today) + 3} y={height - 4} class="now-label">
            now
          </text>
          {marks.map((m) => (
            <g key={m.date}>
              <line x1={x(m.date)} x2={x(m.date)} y1={top - 8} y2={height - 16} class="age" />
              <text x={x(m.date) + 3} y={height - 4} class="age-label">
                {m.label.split(' (')[0]}
              </text>
            </g>
          ))}
        </svg>
      </div>
      <table class="dates">
        <caption>Every dated item of the plan</caption>
        <thead>
          <tr>
            <th scope="col">what</th>
            <th scope="col">kind</th>
            <th scope="col">from</th>
            <th scope="col">to</th>
            <th scope="col">days after the menses</th>
          </tr>
        </thead>
        <tbody>
          {cycle.bleedingStart || cycle.bleedingEnd ? (
            <tr>
              <td>Bleeding (recorded)</td>
              <td>cycle</td>
              <td>{cycle.bleedingStart ?? 'not recorded'}</td>
              <td>{cycle.bleedingEnd ?? 'not recorded'}</td>
              <td />
            </tr>
          ) : null}
          {rows.map((item, i) => (
            <tr key={`${item.actionId}-row-${String(i)}`} data-action={item.actionId}>
              <td>
                {item.title}
                {item.choice ? <span class="choice"> ({item.choice})</span> : null}
              </td>
              <td>
                {KIND_TEXT[item.kind]} ({item.resourceType})
              </td>
              <td>{item.start}</td>
              <td>{item.openEnded ? '(open: no end)' : item.end}</td>
              <td>
                {menstrualDay(item.start!) !== undefined
                  ? `day ${String(menstrualDay(item.start!))}${item.openEnded ? ' on' : ` to ${String(menstrualDay(item.end ?? item.start!))}`}`
                  : ''}
              </td>
            </tr>
          ))}
          {marks.map((m) => (
            <tr key={`age-${m.date}`}>
              <td>Birthday: {m.label}</td>
              <td>age</td>
              <td>{m.date}</td>
              <td>{m.date}</td>
              <td />
            </tr>
          ))}
        </tbody>
      </table>
      {undated.length ? (
        <>
          <h3>Not dated</h3>
          <ul class="undated">
            {undated.map((item, i) => (
              <li key={`${item.actionId}-u-${String(i)}`} class={item.kind}>
                <strong>{KIND_TEXT[item.kind]}:</strong> {item.title}
                {item.detail ? ` - ${item.detail}` : ''}
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}
