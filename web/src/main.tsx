/**
 * The human view: protocol diagrams (#diagrams) and the patient view (#patient). Everything it
 * shows comes from the server that served it: /fhir/PlanDefinition, /diagrams/<id>.svg,
 * POST /fhir/PlanDefinition/$apply and the CDS service; the bundled examples are the repository's
 * examples/*.json, built in.
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { Bundle, CarePlan, PlanDefinition } from '@medplum/fhirtypes';
import searchParameters from 'virtual:patient-search-parameters';
import { ReadableError, applyPlan, callCds, diagramSvg, discovery, listPlans, type CdsAnswer } from './api.ts';
import { loadSearchParameters } from './prefetch.ts';
import { cycleFacts, patientOf, planItems, requestGroupOf, resourcesOf, traceRows } from './result-model.ts';
import { Timeline } from './timeline.tsx';
import { CardsView, TraceView } from './trace-and-cards.tsx';
import './styles.css';

const EXAMPLES = import.meta.glob<Bundle>('../../examples/*.json', { eager: true, import: 'default' });
const EXAMPLE_NAMES = Object.keys(EXAMPLES)
  .map((path) =>
    path
      .split('/')
      .pop()!
      .replace(/\.json$/, ''),
  )
  .sort();
const exampleBundle = (name: string): Bundle | undefined => EXAMPLES[`../../examples/${name}.json`];

function message(err: unknown): string {
  return err instanceof ReadableError ? err.message : `Something went wrong: ${err instanceof Error ? err.message : String(err)}`;
}

function usePlans(): { plans: PlanDefinition[]; error?: string } {
  const [state, setState] = useState<{ plans: PlanDefinition[]; error?: string }>({ plans: [] });
  useEffect(() => {
    listPlans().then(
      (plans) => {
        setState({ plans });
      },
      (err: unknown) => {
        setState({ plans: [], error: message(err) });
      },
    );
  }, []);
  return state;
}

function Diagram({ plan }: { plan: PlanDefinition }) {
  const [svg, setSvg] = useState<string>();
  const [error, setError] = useState<string>();
  const [fit, setFit] = useState(true);
  useEffect(() => {
    diagramSvg(plan.id ?? '').then(setSvg, (err: unknown) => {
      setError(message(err));
    });
  }, [plan.id]);
  const id = plan.id ?? '';
  return (
    <section class="diagram" aria-labelledby={`diagram-${id}`} data-plan={id}>
      <h2 id={`diagram-${id}`}>{plan.title ?? id}</h2>
      <p>
        <code>{plan.url}</code> - <a href={`/diagrams/${encodeURIComponent(id)}`}>rules, source quotes and FHIRPath of each box</a> -{' '}
        <a href={`/diagrams/${encodeURIComponent(id)}.mmd`}>Mermaid</a>{' '}
        <button
          type="button"
          class="secondary"
          aria-pressed={!fit}
          onClick={() => {
            setFit(!fit);
          }}
        >
          {fit ? 'Show at full size' : 'Fit to width'}
        </button>
      </p>
      {error ? <p role="alert">{error}</p> : null}
      {svg ? (
        <div class={`scroll diagram-svg${fit ? ' fit' : ''}`} tabIndex={0} role="region" aria-label={`Diagram of ${plan.title ?? id}`} dangerouslySetInnerHTML={{ __html: svg }} />
      ) : error ? null : (
        <p>Drawing…</p>
      )}
    </section>
  );
}

function DiagramsView({ plans, error }: { plans: PlanDefinition[]; error?: string }) {
  return (
    <div>
      <p class="note">
        Red boxes are contraindication gates (do-not-perform), dashed yellow ones collect missing data, blue ones are choices; green rounded boxes are the definitions ordered.
        Dashed brown arrows are relatedAction timing. Hover or focus a box for its FHIRPath; follow it for its rules and source quotes.
      </p>
      {error ? <p role="alert">{error}</p> : null}
      {plans.map((p) => (
        <Diagram key={p.id} plan={p} />
      ))}
    </div>
  );
}

interface Result {
  carePlan: CarePlan;
  plan: PlanDefinition;
  bundle: Bundle;
  now: string;
  cds?: CdsAnswer;
  cardsError?: string;
  service?: string;
}

const DEFAULT_EXAMPLE = EXAMPLE_NAMES.includes('hsg-infertility-day-6-all-ready') ? 'hsg-infertility-day-6-all-ready' : (EXAMPLE_NAMES[0] ?? '');

function defaultPlanFor(example: string, plans: PlanDefinition[]): string {
  const prefix = example.split('-')[0];
  const guess = { hsg: 'hysterosalpingography', hys: 'infertility-hysteroscopy', tr: 'tubal-reanastomosis', pathway: 'infertility-work-up-pathway' }[prefix ?? ''];
  return plans.find((p) => p.id === guess)?.id ?? plans[0]?.id ?? '';
}

function PatientView({ plans }: { plans: PlanDefinition[] }) {
  const [example, setExample] = useState(DEFAULT_EXAMPLE);
  const [text, setText] = useState(() => JSON.stringify(exampleBundle(DEFAULT_EXAMPLE) ?? {}, null, 2));
  const [planId, setPlanId] = useState('');
  const [now, setNow] = useState(exampleBundle(DEFAULT_EXAMPLE)?.timestamp ?? '');
  const [applyToken, setApplyToken] = useState('');
  const [cdsToken, setCdsToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [result, setResult] = useState<Result>();

  useEffect(() => {
    if (!planId && plans.length) setPlanId(defaultPlanFor(example, plans));
  }, [plans, planId, example]);

  const chooseExample = (name: string) => {
    setExample(name);
    const bundle = exampleBundle(name);
    if (bundle) {
      setText(JSON.stringify(bundle, null, 2));
      if (bundle.timestamp) setNow(bundle.timestamp);
      setPlanId(defaultPlanFor(name, plans));
    }
  };

  const upload = (files: FileList | null) => {
    const file = files?.[0];
    if (!file) return;
    file.text().then(
      (content) => {
        setExample('');
        setText(content);
      },
      () => {
        setError(`The file ${file.name} could not be read.`);
      },
    );
  };

  const apply = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    setResult(undefined);
    const plan = plans.find((p) => p.id === planId);
    if (!plan) {
      setError('Choose a protocol first.');
      return;
    }
    let bundle: Bundle;
    try {
      bundle = JSON.parse(text) as Bundle;
    } catch (err) {
      setError(`The Bundle is not valid JSON: ${err instanceof Error ? err.message : String(err)}. Paste a FHIR Bundle (resourceType "Bundle") holding the patient's record.`);
      return;
    }
    if (typeof bundle !== 'object' || Array.isArray(bundle) || (bundle as { resourceType?: unknown }).resourceType !== 'Bundle') {
      setError('This is JSON but not a FHIR Bundle: its resourceType must be "Bundle", with the patient\u2019s resources in entry[].resource.');
      return;
    }
    const record = resourcesOf(bundle);
    const patient = patientOf(record);
    if (!patient?.id) {
      setError('The Bundle holds no Patient with an id: the plan is applied to one patient, who must be in the Bundle.');
      return;
    }
    setBusy(true);
    try {
      const carePlan = await applyPlan({ plan, bundle, patientId: patient.id, now, token: applyToken });
      const next: Result = { carePlan, plan, bundle, now };
      try {
        const services = await discovery();
        const service =
          services.find((s) => s.hook === 'patient-view' && s.id === `${plan.id ?? ''}-patient-view`) ??
          services.find((s) => s.hook === 'patient-view' && s.id.startsWith(plan.id ?? ''));
        if (service) {
          next.service = service.id;
          next.cds = await callCds(service, bundle, patient.id, cdsToken || applyToken);
        } else {
          next.cardsError = `No patient-view CDS service is offered for ${plan.id ?? ''}.`;
        }
      } catch (err) {
        next.cardsError = message(err);
      }
      setResult(next);
    } catch (err) {
      setError(message(err));
    } finally {
      setBusy(false);
    }
  };

  const group = result ? requestGroupOf(result.carePlan) : undefined;
  const record = result ? resourcesOf(result.bundle) : [];
  return (
    <div>
      <form onSubmit={(e) => void apply(e)} class="apply-form" aria-labelledby="apply-heading">
        <h2 id="apply-heading">Apply a protocol to a patient</h2>
        <div class="fields">
          <label for="example">Example patient</label>
          <select
            id="example"
            value={example}
            onChange={(e) => {
              chooseExample(e.currentTarget.value);
            }}
          >
            <option value="">(pasted or uploaded Bundle)</option>
            {EXAMPLE_NAMES.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
          <label for="plan">Protocol</label>
          <select
            id="plan"
            value={planId}
            onChange={(e) => {
              setPlanId(e.currentTarget.value);
            }}
          >
            {plans.map((p) => (
              <option key={p.id} value={p.id}>
                {p.title ?? p.id}
              </option>
            ))}
          </select>
          <label for="now">Now (date-time with offset)</label>
          <input
            id="now"
            value={now}
            onInput={(e) => {
              setNow(e.currentTarget.value);
            }}
            placeholder="2026-03-10T09:00:00Z"
            aria-describedby="now-help"
          />
          <span id="now-help" class="help">
            The clock the protocol is applied at: it decides today, the windows and the look-backs.
          </span>
          <label for="upload">Upload a Bundle</label>
          <input
            id="upload"
            type="file"
            accept=".json,application/json,application/fhir+json"
            onChange={(e) => {
              upload(e.currentTarget.files);
            }}
          />
        </div>
        <label for="bundle">Patient Bundle (FHIR JSON)</label>
        <textarea
          id="bundle"
          rows={10}
          spellcheck={false}
          value={text}
          onInput={(e) => {
            setExample('');
            setText(e.currentTarget.value);
          }}
        />
        <details class="auth">
          <summary>Authorization (when the server requires signed tokens)</summary>
          <p class="help">
            With authentication on, $apply and each CDS call need a JWT signed by a registered client (audience: the server's /fhir or the CDS service URL). A CDS token is
            single-use. Leave empty for a server started with --no-auth.
          </p>
          <label for="apply-token">Bearer token for $apply</label>
          <input
            id="apply-token"
            value={applyToken}
            autocomplete="off"
            onInput={(e) => {
              setApplyToken(e.currentTarget.value);
            }}
          />
          <label for="cds-token">Bearer token for the CDS call</label>
          <input
            id="cds-token"
            value={cdsToken}
            autocomplete="off"
            onInput={(e) => {
              setCdsToken(e.currentTarget.value);
            }}
          />
        </details>
        <button type="submit" disabled={busy}>
          {busy ? 'Applying…' : 'Apply'}
        </button>
      </form>
      <div aria-live="polite">
        {error ? (
          <p role="alert" class="error">
            {error}
          </p>
        ) : null}
      </div>
      {result ? (
        <div class="result">
          <p class="summary-line">
            {result.plan.title} applied to Patient/{patientOf(record)?.id} (born {patientOf(record)?.birthDate ?? 'unknown'}) at {result.now}.
          </p>
          {(group?.note ?? []).map((n) => (
            <p key={n.text} class="note">
              {n.text}
            </p>
          ))}
          <Timeline items={planItems(result.carePlan)} cycle={cycleFacts(record)} patient={patientOf(record)} now={result.now} />
          <TraceView rows={traceRows(result.carePlan)} />
          {result.cds ? <CardsView cards={result.cds.cards} service={result.service ?? ''} notPrefetched={result.cds.notPrefetched} /> : null}
          {result.cardsError ? (
            <section aria-labelledby="cards-heading">
              <h2 id="cards-heading">CDS cards</h2>
              <p role="alert" class="error">
                {result.cardsError}
              </p>
            </section>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}

function App() {
  const [view, setView] = useState(() => (location.hash === '#patient' ? 'patient' : 'diagrams'));
  const { plans, error } = usePlans();
  useEffect(() => {
    const onHash = () => {
      setView(location.hash === '#patient' ? 'patient' : 'diagrams');
    };
    addEventListener('hashchange', onHash);
    return () => {
      removeEventListener('hashchange', onHash);
    };
  }, []);
  return (
    <>
      <header>
        <h1>infertility-protocols</h1>
        <nav aria-label="Views">
          <a href="#diagrams" aria-current={view === 'diagrams' ? 'page' : undefined}>
            Protocol diagrams
          </a>
          <a href="#patient" aria-current={view === 'patient' ? 'page' : undefined}>
            Patient view
          </a>
        </nav>
      </header>
      <main>{view === 'patient' ? <PatientView plans={plans} /> : <DiagramsView plans={plans} {...(error ? { error } : {})} />}</main>
    </>
  );
}

// The prefetch templates are evaluated as FHIR searches over the pasted Bundle (prefetch.ts).
loadSearchParameters(searchParameters);
render(<App />, document.getElementById('app')!);
