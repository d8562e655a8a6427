/** `serve --now` / config `now`: the clinical clock of the CDS and $apply endpoints is fixed, whatever the day. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { serveConfigFrom } from '../../src/cli/commands/serve.ts';
import { buildServer } from '../../src/server/app.ts';
import { ROOT } from '../support/cli.ts';

async function authoredOn(config: Parameters<typeof buildServer>[0]): Promise<string | undefined> {
  const server = buildServer(config);
  try {
    const bundle = JSON.parse(readFileSync(join(ROOT, 'examples/hsg-infertility-day-6-all-ready.json'), 'utf8')) as { entry: { resource: { resourceType: string; id: string } }[] };
    const patient = bundle.entry.find((e) => e.resource.resourceType === 'Patient')!.resource;
    const response = await server.app.inject({
      method: 'POST',
      url: '/fhir/PlanDefinition/hysterosalpingography/$apply',
      headers: { 'content-type': 'application/fhir+json', accept: 'application/fhir+json' },
      payload: {
        resourceType: 'Parameters',
        parameter: [
          { name: 'subject', valueString: `Patient/${patient.id}` },
          { name: 'data', resource: { resourceType: 'Bundle', type: 'collection', entry: bundle.entry } },
        ],
      },
    });
    expect(response.statusCode, response.body).toBe(200);
    const carePlan = response.json<{ contained: { resourceType: string; authoredOn?: string }[] }>();
    return carePlan.contained.find((r) => r.resourceType === 'RequestGroup')?.authoredOn;
  } finally {
    await server.app.close();
  }
}

describe('serve --now', () => {
  it('the flag and the config field fix the clinical time of $apply (no now parameter sent)', async () => {
    const fromFlag = serveConfigFrom({ auth: false, port: '0', logLevel: 'silent', now: '2026-11-23T09:00:00+08:00' });
    expect(await authoredOn(fromFlag)).toMatch(/^2026-11-23T(09:00:00(\.000)?\+08:00|01:00:00(\.000)?Z)$/);
    const fromConfig = serveConfigFrom({ config: join(ROOT, 'examples/cds-demo-config.json'), auth: false, port: '0', logLevel: 'silent' });
    expect(fromConfig.now).toBe('2026-11-23T09:00:00+08:00');
    expect(await authoredOn(fromConfig)).toMatch(/^2026-11-23T09:00:00(\.000)?\+08:00$/);
  });

  it('refuses a now that is not a date-time with offset, naming the field', () => {
    expect(() => buildServer(serveConfigFrom({ auth: false, port: '0', now: '2026-11-23' }))).toThrow(/now/);
  });
});
