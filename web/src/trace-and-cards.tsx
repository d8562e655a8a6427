/**
 * The trace (why each action is in or out, the inputs it reads, what is missing and the Task
 * asking for it) and the CDS cards drawn the way an EHR shows them.
 */
import { micromark } from 'micromark';
import type { CdsAnswer, CdsCard } from './api.ts';
import type { TraceRow } from './result-model.ts';

export function TraceView({ rows }: { rows: TraceRow[] | undefined }) {
  return (
    <section aria-labelledby="trace-heading">
      <h2 id="trace-heading">Trace: why each action is in or out</h2>
      {rows ? (
        <p class="note">As the served $apply recorded it (trace=true): each action with its conditions and their results, the inputs it read, and what is missing.</p>
      ) : (
        <p role="alert" class="error">
          The server returned no trace with the result (it does not support the $apply parameter trace).
        </p>
      )}
      <ul class="trace">
        {(rows ?? []).map((row) => (
          <li key={row.actionId} class={`trace-row status-${row.status.replace(/ /g, '-')}`} style={{ marginLeft: `${String(row.depth * 1.1)}rem` }} data-action={row.actionId}>
            <span class="status">{row.status}</span> <strong>{row.title}</strong> <span class="reason">- {row.reason}</span>
            {row.missing.map((m) => (
              <p key={m.taskId} class="task">
                Missing %{m.inputId} ({m.type}) - Task: {m.task}
              </p>
            ))}
            {row.conditions.length || row.inputs.length || row.notes.length || row.request ? (
              <details>
                <summary>
                  {[row.conditions.length ? 'conditions' : '', row.inputs.length ? 'inputs read' : '', row.request ? 'request' : '', row.notes.length ? 'notes' : '']
                    .filter(Boolean)
                    .join(', ')}{' '}
                  <span class="visually-hidden">of {row.title}</span>
                </summary>
                {row.conditions.length ? (
                  <ul class="conditions">
                    {row.conditions.map((c, i) => (
                      <li key={String(i)}>
                        if {c.label}: <span class="outcome">{c.outcome}</span>
                        {c.fhirpath && c.fhirpath !== c.label ? (
                          <details>
                            <summary>FHIRPath</summary>
                            <code>{c.fhirpath}</code>
                          </details>
                        ) : null}
                      </li>
                    ))}
                  </ul>
                ) : null}
                {row.inputs.length ? (
                  <p class="inputs">
                    Read:{' '}
                    {row.inputs.map((i) => (
                      <code key={i.id}>
                        %{i.id} ({i.count} {i.count === 1 ? 'resource' : 'resources'}){' '}
                      </code>
                    ))}
                  </p>
                ) : null}
                {row.request ? <p>Request: {row.request}</p> : null}
                {row.notes.map((n) => (
                  <p key={n} class="trace-note">
                    {n}
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

export function CardsView({ cards, service, notPrefetched }: { cards: CdsCard[]; service: string; notPrefetched: CdsAnswer['notPrefetched'] }) {
  return (
    <section aria-labelledby="cards-heading">
      <h2 id="cards-heading">CDS cards ({service})</h2>
      {notPrefetched.length ? (
        <p class="note not-prefetched">Not prefetched (the service reads them itself when it can): {notPrefetched.map((n) => `${n.key} - ${n.why}`).join('; ')}.</p>
      ) : null}
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
