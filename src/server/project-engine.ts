/** The project's own $apply engine behind the server's engine port. */
import { applyActivityDefinition, applyPlanDefinition, buildPatientData } from '../engine/index.ts';
import type { ProtocolEngine } from './engine-port.ts';

export const projectEngine: ProtocolEngine = {
  apply: applyPlanDefinition,
  applyActivity: applyActivityDefinition,
  buildPatientData,
};
