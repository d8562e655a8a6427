/**
 * The trace (why each action is in or out, the inputs it reads, what is missing and the Task
 * asking for it) and the CDS cards drawn the way an EHR shows them.
 */
import { micromark } from 'micromark';
import type { CdsCard } from './api.ts';
import type { TraceRow } from './result-model.ts';

export function TraceView({ rows, fromEngine }: { rows: TraceRow[]; fromEngine: boolean }) {
  return (
    <section aria-labelledby="trace-heading">
      <h2 id="trace-heading">Trace: why each action is in or out</h2>
      <p class="note">
        {fromEngine
          ? 'Reasons as the engine recorded them (trace extension on the RequestGroup).'
          : 'Read from the result: an action is applied when the RequestGroup holds it, waits for data when a collect-information Task names it, and is otherwise out because one of its conditions was false. The served $apply does not return the engine\u2019s own trace.'}
      </p>
      <ul class="trace">
        {rows.map((row) => (
          <li key={row.actionId} class={`trace-row status-${row.status.replace(/ /g, '-')}`} style={{ marginLeft: `${String(row.depth * 1.1)}rem` }} data-action={row.actionId}>
            <span class="status">{row.status}</span> <strong>{row.title}</strong> <span class="reason">- {row.reason}</span>
            {row.conditions.length || row.inputs.length || row.tasks.length ? (
              <details>
                <summary>
                  conditions, inputs{row.tasks.length ? ', missing data' : ''} <span class="visually-hidden">of {row.title}</span>
                </summary>
                {row.conditions.length ? (
                  <ul>
                    {row.conditions.map((c) => (
                      <li key={c.fhirpath}>
                        if {c.title}: <code>{c.fhirpath}</code>
                      </li>
                    ))}
                  </ul>
                ) : null}
                {row.inputs.length ? (
                  <p>
                    Reads:{' '}
                    {row.inputs.map((i) => (
                      <code key={i.id}>
                        %{i.id} ({i.type}
                        {i.required ? ', required' : ''}){' '}
                      </code>
                    ))}
                  </p>
                ) : null}
                {row.tasks.map((t) => (
                  <p key={t} class="task">
                    Missing - Task: {t}
                  </p>
                ))}
              </details>
            ) : null}
          </li>
        ))}
      </ul>
    </section>
  );
}

const INDICATOR_TEXT: Record<CdsCard['indicator'], string> = { critical: 'Critical', warning: 'Warning', info: 'Info' };

export function CardsView({ cards, service }: { cards: CdsCard[]; service: string }) {
  return (
    <section aria-labelledby="cards-heading">
      <h2 id="cards-heading">CDS cards ({service})</h2>
      {cards.length === 0 ? <p>No cards: the service has no guidance for this patient.</p> : null}
      <ul class="cards">
        {cards.map((card, i) => (
          <li key={card.uuid ?? String(i)} class={`card ${card.indicator}`}>
            <p class="card-head">
              <span class="indicator">{INDICATOR_TEXT[card.indicator]}</span> <strong class="summary">{card.summary}</strong>
            </p>
            {/* CDS detail is Markdown; micromark drops raw HTML and unsafe link protocols by default. */}
            {card.detail ? <div class="detail" dangerouslySetInnerHTML={{ __html: micromark(card.detail) }} /> : null}
            {card.suggestions?.length ? (
              <div class="suggestions">
                <p>Suggestions{card.selectionBehavior ? ` (${card.selectionBehavior.replace(/-/g, ' ')})` : ''}:</p>
                <ul>
                  {card.suggestions.map((s) => (
                    <li key={s.uuid ?? s.label}>
                      <button type="button" disabled title="Accepting needs an EHR">
                        {s.label}
                      </button>
                      {s.isRecommended ? ' (recommended)' : ''}
                    </li>
                  ))}
                </ul>
              </div>
            ) : null}
            {card.links?.length ? (
              <p class="links">
                {card.links.map((l) => (
                  <a key={l.url} href={l.url} target="_blank" rel="noreferrer">
                    {l.label}
                  </a>
                ))}
              </p>
            ) : null}
            <p class="source">Source: {card.source.url ? <a href={card.source.url}>{card.source.label}</a> : card.source.label}</p>
          </li>
        ))}
      </ul>
    </section>
  );
}
