/** ActivityDefinition/$apply: the standalone operation and the request builder PlanDefinition/$apply uses. */
export { applyActivityDefinition } from './apply-activity-definition.ts';
export { buildRequest, isSupportedKind, SUPPORTED_KINDS, transformRefusal, withActivityKind, type RequestBuildInput } from './build-request.ts';
