/**
 * AWS's own published API models, as botocore ships them (botocore comes with
 * moto, which the integration tests need anyway): shape constraints (min, max,
 * pattern), documentation strings and the error codes of each operation. The
 * contract tests read limits from here instead of from memory.
 */
import { execFileSync } from 'node:child_process';

export interface ShapeModel {
  readonly type: string;
  readonly min?: number;
  readonly max?: number;
  readonly pattern?: string;
  readonly enum?: string[];
  readonly documentation?: string;
  readonly members?: Record<string, { shape: string; documentation?: string }>;
}

export interface ServiceModel {
  readonly shapes: Record<string, ShapeModel>;
  readonly operations: Record<string, { errors?: Array<{ shape: string }>; input?: { shape: string }; output?: { shape: string } }>;
}

const LOADER = `
import json, sys, botocore.loaders
print(json.dumps(botocore.loaders.Loader().load_service_model(sys.argv[1], 'service-2')))
`;

const cache = new Map<string, ServiceModel>();

/** The service model of `service` (botocore's name: ssm, autoscaling, elbv2, sqs, sns, cloudwatch, ec2, ...). */
export function serviceModel(service: string): ServiceModel {
  let model = cache.get(service);
  if (model === undefined) {
    model = JSON.parse(execFileSync('python3', ['-c', LOADER, service], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })) as ServiceModel;
    cache.set(service, model);
  }
  return model;
}

/** The shape of member `member` of operation `operation`'s input or output. */
export function memberShape(service: string, operation: string, side: 'input' | 'output', member: string): ShapeModel {
  const model = serviceModel(service);
  const container = model.operations[operation]?.[side]?.shape;
  const ref = container === undefined ? undefined : model.shapes[container]?.members?.[member];
  const shape = ref === undefined ? undefined : model.shapes[ref.shape];
  if (ref === undefined || shape === undefined) throw new Error(`${service} ${operation} ${side} has no member ${member}`);
  // The member's own documentation says what the field means here.
  return { ...shape, ...(ref.documentation !== undefined ? { documentation: ref.documentation } : {}) };
}

/** A named shape of `service`'s model. */
export function shape(service: string, name: string): ShapeModel {
  const found = serviceModel(service).shapes[name];
  if (found === undefined) throw new Error(`${service} has no shape ${name}`);
  return found;
}

/** The error codes AWS documents for `operation`. */
export function operationErrors(service: string, operation: string): string[] {
  return (serviceModel(service).operations[operation]?.errors ?? []).map((e) => e.shape);
}
