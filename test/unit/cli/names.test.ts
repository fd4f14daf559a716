import fs from 'node:fs';
import path from 'node:path';
import { checkStage, functionName, logGroupName, SERVICE, type FunctionKey } from '../../../lib/cli/names';
import { OperatorError } from '../../../lib/errors';

const REPO = path.resolve(__dirname, '..', '..', '..');

it('names what serverless.yml deploys: its service and function keys', () => {
  // Prepare: the template's own words
  const text = fs.readFileSync(path.join(REPO, 'serverless.yml'), 'utf8');
  const service = /^service: (\S+)$/m.exec(text)?.[1];
  const functions = [...text.matchAll(/^ {2}([a-z]+):\n {4}handler: functions\/\1\/handler\.handler$/gm)].map((m) => m[1]);
  const keys: FunctionKey[] = ['status', 'storage', 'alarm', 'lifecycle'];
  // Assess
  expect(service).toBe(SERVICE);
  expect(keys.filter((k) => !functions.includes(k))).toEqual([]);
  expect(functionName('prod', 'status')).toBe('pydio-autoscaler-prod-status');
  expect(logGroupName('prod', 'alarm')).toBe('/aws/lambda/pydio-autoscaler-prod-alarm');
});

it.each([['prod'], ['eu-1'], ['A1'], ['a'.repeat(37)]])('stage %s is a stage serverless allows and Lambda can name', (stage) => {
  expect(checkStage(stage)).toBe(stage);
});

it.each([['prod_1'], ['prod.1'], [''], ['a'.repeat(38)]])('stage %j is refused by name', (stage) => {
  expect(() => checkStage(stage)).toThrow(OperatorError);
});
